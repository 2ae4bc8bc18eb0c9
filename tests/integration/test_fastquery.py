"""Query plans answer exactly what the executor answers, and only what they can."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from api.domain.errors import Forbidden, InvalidInput, RateLimited
from api.domain.identity import Actor
from api.graphql.context import Context
from api.graphql.fastquery import NotPlain, Request
from api.graphql.schema import schema
from api.ratelimit import RateLimits
from api.settings import Settings
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run, count_queries

EVERY_PRODUCT_FIELD = (
    "__typename id sku name digital discontinued version availability "
    "price { amount currency __typename } stock { onHand allocated available backordered "
    "__typename } policy { allowBackorders backorderCap leadTimeDays handlingDays releaseDate "
    "delayGraceDays lowStockThreshold __typename }"
)
EVERY_BACK_ORDER_FIELD = (
    "__typename id status quantity allocatedQuantity remainingQuantity queuePosition "
    "unitsAhead estimatedShipDate estimateIsScheduled promisedDate delayed priority placedAt "
    "trackingCode version unitPrice { amount currency } refundedAmount { amount currency } "
    "customer { id __typename } "
    f"product {{ {EVERY_PRODUCT_FIELD} }} "
    "order { __typename id idempotencyKey placedAt customer { id } "
    "amountCharged { amount currency } amountRefunded { amount currency } }"
)
PLAIN = [
    ('query($s: String!) { product(sku: $s) { sku name stock { onHand available '
     'backordered } } }', {"s": "KB"}),
    (f'{{ product(sku: "KB") {{ {EVERY_PRODUCT_FIELD} }} }}', {}),
    ('{ p: product(sku: "NOPE") { sku } }', {}),
    ('query Named { product(sku: "MUG") { n: name s: stock { a: available } } }', {}),
    (f"{{ backOrders(first: 100) {{ __typename edges {{ __typename cursor node {{ "
     f"{EVERY_BACK_ORDER_FIELD} }} }} pageInfo {{ __typename hasNextPage hasPreviousPage "
     f"startCursor endCursor }} }} }}", {}),
    ("query($n: Int, $st: [BackOrderStatus!], $o: BackOrderSort) { backOrders(first: $n, "
     "status: $st, orderBy: $o) { edges { cursor node { id queuePosition } } "
     "pageInfo { hasNextPage endCursor } } }",
     {"n": 1, "st": ["WAITING"], "o": "QUEUE"}),
    ('{ backOrders(sku: "MUG", status: [ALLOCATED, WAITING]) { edges { node { id } } } }', {}),
    ("{ backOrders(first: 0) { edges { node { id } } pageInfo { startCursor } } }", {}),
]
NOT_PLAIN = [
    '{ product(sku: "KB") { ...F } } fragment F on Product { sku }',
    '{ product(sku: "KB") { sku @include(if: true) } }',
    '{ product(sku: "KB") { estimatedShipDate } }',
    '{ product(sku: "KB") { sku } viewer { id } }',
    '{ product(sku: "KB") { sku sku } }',
    "{ backOrders { totalCount } }",
    "{ backOrders { edges { node { history { kind } } } } }",
    '{ product(sku: "KB") { nope } }',
    '{ product(sku: "KB") { sku }',
    'mutation { cancelBackOrder(id: "1") { __typename } }',
    '{ product(sku: "KB") { sku } } query Other { viewer { id } }',
]


async def _catalogue(gql: Run) -> None:
    await steps.product(gql, "KB")
    await steps.product(gql, "MUG", on_hand=1)
    await steps.back_order(gql, ALICE, "KB", 2)
    await steps.back_order(gql, BOB, "KB", 1)
    await steps.order(gql, ALICE, "MUG", 2)
    await steps.restock(gql, "KB", 1, (date.today() + timedelta(days=30)).isoformat())


async def _both(query: str, variables: dict[str, Any], actor: Actor | None
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    settings = Settings()
    plan = schema.query_plan(query, None)
    assert plan is not None, query
    fast = await plan.run(variables, Request(actor, settings.max_page_size, settings.currency))
    slow = await schema.execute(query, variable_values=variables,
                                context_value=Context(actor, settings))
    assert slow.errors is None, slow.errors
    assert slow.data is not None
    return fast, slow.data


@pytest.mark.parametrize(("query", "variables"), PLAIN)
@pytest.mark.parametrize("actor", [STAFF, ALICE])
async def test_a_plan_answers_what_the_executor_answers(
        gql: Run, query: str, variables: dict[str, Any], actor: Actor) -> None:
    await _catalogue(gql)
    fast, slow = await _both(query, variables, actor)
    assert fast == slow
    if "backOrders" in query and "first: 0" not in query:
        assert fast["backOrders"]["edges"], "the comparison saw no rows"


@pytest.mark.parametrize("query", NOT_PLAIN)
def test_other_documents_go_to_the_executor(query: str) -> None:
    assert schema.query_plan(query, None) is None


def test_an_operation_name_must_match() -> None:
    query = 'query Named { product(sku: "KB") { sku } }'
    assert schema.query_plan(query, "Named") is not None
    assert schema.query_plan(query, "Other") is None


async def test_errors_are_left_to_the_executor(gql: Run) -> None:
    await _catalogue(gql)
    settings = Settings()
    anonymous = Request(None, settings.max_page_size, settings.currency)
    page = schema.query_plan("{ backOrders { edges { node { id } } } }", None)
    assert page is not None
    with pytest.raises(Forbidden, match="sign in"):
        await page.run(None, anonymous)
    sized = schema.query_plan("query($n: Int) { backOrders(first: $n) { edges { cursor } } }",
                              None)
    assert sized is not None
    staff = Request(STAFF, settings.max_page_size, settings.currency)
    with pytest.raises(InvalidInput, match="first"):
        await sized.run({"n": 5000}, staff)
    with pytest.raises(NotPlain):
        await sized.run({"n": "many"}, staff)


async def test_a_page_costs_the_same_statements_whatever_its_size(gql: Run) -> None:
    await _catalogue(gql)
    for n in range(3):
        await steps.back_order(gql, BOB, "MUG", 1 + n)
    settings = Settings()
    plan = schema.query_plan(PLAIN[4][0], None)
    assert plan is not None
    counts = []
    for size in (1, 5):
        query = PLAIN[4][0].replace("first: 100", f"first: {size}")
        plan = schema.query_plan(query, None)
        assert plan is not None
        with count_queries() as counter:
            data = await plan.run(None, Request(STAFF, settings.max_page_size,
                                                settings.currency))
        assert len(data["backOrders"]["edges"]) == size
        counts.append(len(counter.queries))
    assert counts[0] == counts[1] == 2  # the page with its orders, then its products


PLACE = ('mutation($k: String!, $sku: String!) { placeOrder(input: {lines: [{sku: $sku, '
         'quantity: 1}], idempotencyKey: $k}) { __typename ... on PlaceOrderPayload { '
         'replayed order { __typename id idempotencyKey placedAt customer { id } '
         'amountCharged { amount currency } amountRefunded { amount currency } } } '
         '... on Error { code message } ... on OutOfStockError { sku } } }')


async def test_a_planned_order_answers_what_the_executor_answers(gql: Run) -> None:
    await _catalogue(gql)
    settings = Settings()
    plan = schema.query_plan(PLACE, None)
    assert plan is not None and plan.mutation
    woken: list[bool] = []
    state: dict[str, Any] = {}
    request = Request(ALICE, settings.max_page_size, settings.currency, state=state,
                      after_mutation=lambda: woken.append(True))
    first = await plan.run({"k": "plan-1", "sku": "KB"}, request)
    assert woken == [True]
    slow = await schema.execute(PLACE, variable_values={"k": "plan-1", "sku": "KB"},
                                context_value=Context(ALICE, settings))
    assert slow.errors is None and slow.data is not None
    assert first["placeOrder"]["replayed"] is False
    assert slow.data["placeOrder"]["replayed"] is True  # the same order, by its key
    assert {**first["placeOrder"], "replayed": True} == slow.data["placeOrder"]
    again = await plan.run({"k": "plan-1", "sku": "KB"}, request)
    assert again == slow.data


async def test_a_failed_order_is_left_to_the_executor_and_changes_nothing(gql: Run) -> None:
    await _catalogue(gql)
    await gql('mutation { updateBackorderPolicy(sku: "MUG", input: {allowBackorders: false})'
              ' { __typename } }', STAFF)
    plan = schema.query_plan(PLACE, None)
    assert plan is not None
    settings = Settings()
    before = await gql('{ product(sku: "MUG") { stock { onHand allocated backordered } } }')
    with pytest.raises(Exception, match="MUG"):
        await plan.run({"k": "plan-2", "sku": "MUG"},
                       Request(ALICE, settings.max_page_size, settings.currency))
    assert await gql('{ product(sku: "MUG") { stock { onHand allocated backordered } } }'
                     ) == before


@pytest.mark.parametrize("selection", [
    "{ ... on PlaceOrderPayload { order { backOrders { id } } } }",
    "{ ... on PlaceOrderPayload { order { lines { id } } } }",
    "{ ...F } } fragment F on PlaceOrderPayload { replayed",
])
def test_other_order_selections_go_to_the_executor(selection: str) -> None:
    query = ('mutation { placeOrder(input: {lines: [{sku: "KB", quantity: 1}], '
             f'idempotencyKey: "k"}}) {selection} }}')
    assert schema.query_plan(query, None) is None


async def test_another_customers_back_orders_are_an_empty_page(gql: Run) -> None:
    await _catalogue(gql)
    query = ('{ backOrders(customerId: "bob") { edges { node { id } } '
             "pageInfo { hasNextPage } } }")
    fast, slow = await _both(query, {}, ALICE)
    assert fast == slow == {"backOrders": {"edges": [], "pageInfo": {"hasNextPage": False}}}


async def test_a_rate_limited_plan_is_not_counted_again_by_the_executor(gql: Run) -> None:
    await _catalogue(gql)
    settings = Settings(rate_limit_orders="5/minute", rate_limit_orders_per_address="1/minute")
    limiter = RateLimits(settings)
    plan = schema.query_plan(PLACE, None)
    assert plan is not None

    def request(state: dict[str, Any]) -> Request:
        return Request(ALICE, settings.max_page_size, settings.currency, limiter=limiter,
                       address="10.0.0.1", state=state)

    await plan.run({"k": "limited-1", "sku": "KB"}, request({}))
    state: dict[str, Any] = {}
    with pytest.raises(RateLimited):  # alice's counter took a hit, the address's did not
        await plan.run({"k": "limited-2", "sku": "KB"}, request(state))
    slow = await schema.execute(PLACE, variable_values={"k": "limited-2", "sku": "KB"},
                                context_value=Context(ALICE, settings, limiter=limiter,
                                                      address="10.0.0.1",
                                                      request_state=SimpleNamespace(**state)))
    assert slow.data is not None
    assert slow.data["placeOrder"]["code"] == "RATE_LIMITED"
    stats = await limiter._limiter.get_window_stats(limiter.orders, "order", "subject:alice")
    assert stats.remaining == 3  # two hits for two requests, not three


@pytest.mark.parametrize("arguments", [
    "", 'sku: "KB"', 'sku: "MUG"', "status: [WAITING]", "status: [ALLOCATED, SHIPPED]",
    'customerId: "bob"', "orderBy: QUEUE", 'orderBy: QUEUE, sku: "KB"',
])
async def test_total_count_counts_what_the_filter_matches_on_every_page(
        gql: Run, arguments: str) -> None:
    await _catalogue(gql)
    for n in range(3):
        await steps.back_order(gql, BOB, "KB", 1 + n)
    query = ("query($after: String) { backOrders(first: 2, after: $after, "
             f"{arguments}) {{ totalCount edges {{ node {{ id }} }} "
             "pageInfo { hasNextPage endCursor } } }")
    seen: list[str] = []
    counts: set[int] = set()
    after = None
    while True:
        page = (await gql(query, STAFF, after=after))["backOrders"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        counts.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert counts == {len(seen)}
    assert len(seen) == len(set(seen))
