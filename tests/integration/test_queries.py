"""Reads: who sees what, cursor pages, and a fixed number of SQL queries per page."""

from __future__ import annotations

from typing import Any

from api.store.models import BackOrder
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run, count_queries
from tests.integration.operations import BACK_ORDER, BACK_ORDERS_PAGE, PLACE_ORDER

ORDER = """query($id: ID!) { order(id: $id) { id customer { id } lines { quantity } } }"""
VIEWER = """{ viewer { id role orders(first: 5) { totalCount edges { node { id } } } } }"""
PRODUCTS = """query($a: [Availability!]) {
  products(first: 10, availability: $a) { edges { node { sku availability } } } }"""


async def _queue(gql: Run, count: int) -> None:
    await steps.product(gql, "KB")
    await steps.product(gql, "MUG")
    for i in range(count):
        await gql(PLACE_ORDER, ALICE if i % 2 else BOB, input={
            "lines": [{"sku": "KB" if i % 3 else "MUG", "quantity": 1}],
            "idempotencyKey": f"k{i}"})


async def test_a_page_of_100_costs_the_same_queries_as_a_page_of_10(gql: Run) -> None:
    await _queue(gql, 100)
    with count_queries() as small:
        page10 = await gql(BACK_ORDERS_PAGE, STAFF, first=10)
    with count_queries() as large:
        page100 = await gql(BACK_ORDERS_PAGE, STAFF, first=100)
    assert len(page10["backOrders"]["edges"]) == 10
    assert len(page100["backOrders"]["edges"]) == 100
    assert 3 <= len(large.queries) == len(small.queries) <= 6, large.queries


async def test_cursor_pages_walk_every_back_order_once(gql: Run) -> None:
    await _queue(gql, 25)
    seen: list[str] = []
    after = None
    while True:
        data = await gql(BACK_ORDERS_PAGE, STAFF, first=10, after=after)
        page = data["backOrders"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["totalCount"] == 25
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 25


async def test_customers_see_only_their_own_back_orders(gql: Run) -> None:
    await _queue(gql, 6)
    mine = await gql(BACK_ORDERS_PAGE, ALICE, first=50)
    customers = {e["node"]["customer"]["id"] for e in mine["backOrders"]["edges"]}
    assert customers == {"alice"}
    theirs = await BackOrder.filter(customer_id="bob").first()
    assert theirs is not None
    assert (await gql(BACK_ORDER, ALICE, id=str(theirs.id)))["backOrder"] is None
    assert (await gql(BACK_ORDER, STAFF, id=str(theirs.id)))["backOrder"]["id"] == str(theirs.id)
    assert (await gql(BACK_ORDER, None, id=str(theirs.id)))["backOrder"] is None


async def test_orders_are_visible_to_their_customer_and_staff(gql: Run) -> None:
    await steps.product(gql, "KB")
    placed = await steps.order(gql, ALICE, "KB", 1)
    order_id = placed["order"]["id"]
    assert (await gql(ORDER, ALICE, id=order_id))["order"]["customer"] == {"id": "alice"}
    assert (await gql(ORDER, STAFF, id=order_id))["order"]["id"] == order_id
    assert (await gql(ORDER, BOB, id=order_id))["order"] is None


async def test_viewer_names_the_token_holder(gql: Run) -> None:
    await _queue(gql, 4)
    data = await gql(VIEWER, ALICE)
    assert data["viewer"]["id"] == "alice" and data["viewer"]["role"] == "CUSTOMER"
    assert data["viewer"]["orders"]["totalCount"] == 2
    assert (await gql(VIEWER, None))["viewer"] is None


async def test_anonymous_back_order_lists_are_an_error_with_a_code(
    gql_result: Any, db: str
) -> None:
    result = await gql_result(BACK_ORDERS_PAGE, None, first=5)
    assert result.data is None
    assert result.errors[0].extensions["code"] == "FORBIDDEN"


async def test_ids_beyond_the_key_range_are_invalid_input(gql_result: Any, db: str) -> None:
    result = await gql_result(BACK_ORDER, ALICE, id="99999999999")
    assert result.errors[0].extensions == {"code": "INVALID_INPUT", "field": "id"}
    big_cursor = "azo5OTk5OTk5OTk5OTk5"
    result = await gql_result(BACK_ORDERS_PAGE, STAFF, first=5, after=big_cursor)
    assert result.errors[0].extensions == {"code": "INVALID_INPUT", "field": "after"}


async def test_total_count_follows_the_availability_filter(gql: Run) -> None:
    await steps.product(gql, "A", on_hand=50)
    await steps.product(gql, "B")
    data = await gql("""{ products(availability: [IN_STOCK]) { totalCount } }""", None)
    assert data["products"]["totalCount"] == 1


async def test_a_page_larger_than_the_limit_is_refused(gql_result: Any, db: str) -> None:
    result = await gql_result(BACK_ORDERS_PAGE, STAFF, first=101)
    assert result.errors[0].extensions == {"code": "INVALID_INPUT", "field": "first"}


async def test_products_filter_by_availability(gql: Run) -> None:
    await steps.product(gql, "A", on_hand=50)
    await steps.product(gql, "B", on_hand=2)
    await steps.product(gql, "C", allowBackorders=False)
    await steps.product(gql, "D")
    data = await gql(PRODUCTS, None, a=["BACKORDERABLE", "OUT_OF_STOCK"])
    assert [e["node"] for e in data["products"]["edges"]] == [
        {"sku": "C", "availability": "OUT_OF_STOCK"},
        {"sku": "D", "availability": "BACKORDERABLE"},
    ]


SET_PREFERENCES = """mutation($input: NotificationPreferencesInput!) {
  setNotificationPreferences(input: $input) {
    __typename
    ... on NotificationPreferencesPayload { preferences { customerId email channels events } }
    ... on InvalidInputError { field }
  }
}"""
MY_PREFERENCES = "{ viewer { notificationPreferences { email phone channels optedOut } } }"


async def test_customers_set_their_notification_preferences(gql: Run) -> None:
    data = await gql(SET_PREFERENCES, ALICE, input={
        "email": "alice@example.com", "channels": ["EMAIL"], "events": ["SHIPPED"]})
    assert data["setNotificationPreferences"]["preferences"] == {
        "customerId": "alice", "email": "alice@example.com", "channels": ["EMAIL"],
        "events": ["SHIPPED"]}
    await gql(SET_PREFERENCES, ALICE, input={"phone": "+14155550100", "channels": ["SMS"]})
    mine = (await gql(MY_PREFERENCES, ALICE))["viewer"]["notificationPreferences"]
    assert mine == {"email": None, "phone": "+14155550100", "channels": ["SMS"],
                    "optedOut": False}


async def test_a_channel_needs_its_address(gql: Run) -> None:
    data = await gql(SET_PREFERENCES, ALICE, input={"channels": ["PUSH"]})
    assert data["setNotificationPreferences"] == {
        "__typename": "InvalidInputError", "field": "pushTarget"}
    bad = await gql(SET_PREFERENCES, ALICE, input={"email": "not-an-address"})
    assert bad["setNotificationPreferences"]["field"] == "email"


async def test_customers_cannot_set_anothers_preferences(gql: Run) -> None:
    data = await gql(SET_PREFERENCES, BOB, input={"customerId": "alice", "optedOut": True})
    assert data["setNotificationPreferences"]["__typename"] == "ForbiddenError"


async def test_a_planned_page_reads_only_the_columns_its_selection_needs(
        gql: Run, database_url: str) -> None:
    await _queue(gql, 3)
    document = "query($n: Int) { backOrders(first: $n) { edges { node { id status } } } }"
    first = await gql(document, STAFF, n=3)  # parsed and validated: ready from now on
    with count_queries() as counted:
        again = await gql(document, STAFF, n=3)
    assert again == first and len(again["backOrders"]["edges"]) == 3
    page = next(q for q in counted.queries if '"BACK_ORDER" B' in q)
    # On PostgreSQL the root plan's reads go to the page (light rows of those fields and
    # the page's own: ids, cursor keys); SQLite reads model instances, every column.
    if database_url.startswith("postgres"):
        assert 'B."STATUS"' in page and '"PLACED_AT"' not in page, page
    else:
        assert 'B."PLACED_AT"' in page and 'O."PLACED_AT"' in page, page
