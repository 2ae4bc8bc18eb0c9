"""A product's limit of units one customer may have on back order or pre-order (issue 16,
part 7): the refusal names the limit and changes nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from api.store.models import BackOrder, Order, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import (
    CANCEL_BACK_ORDER,
    PLACE_ORDER,
    SHIP_BACK_ORDER,
    UPDATE_POLICY,
)


async def test_an_order_over_the_limit_names_it_and_changes_nothing(gql: Run) -> None:
    await steps.product(gql, "CONSOLE", customerLimit=2)
    await steps.back_order(gql, ALICE, "CONSOLE", 1)
    product_before = await Product.get(sku="CONSOLE")
    orders_before = await Order.all().count()
    refused = await steps.order(gql, ALICE, "CONSOLE", 2)
    assert refused["__typename"] == "CustomerLimitReachedError"
    assert refused["code"] == "CUSTOMER_LIMIT_REACHED"
    assert (refused["sku"], refused["limit"], refused["held"], refused["requested"]) == (
        "CONSOLE", 2, 1, 2)
    assert "at most 2" in refused["message"]
    product_after = await Product.get(sku="CONSOLE")
    assert (product_after.waiting, product_after.version) == (
        product_before.waiting, product_before.version)
    assert await Order.all().count() == orders_before
    # Up to the limit is fine, and other customers have their own allowance.
    assert (await steps.order(gql, ALICE, "CONSOLE", 1))["__typename"] == "PlaceOrderPayload"
    assert (await steps.order(gql, BOB, "CONSOLE", 2))["__typename"] == "PlaceOrderPayload"


async def test_units_from_free_stock_do_not_count_but_allocated_back_orders_do(
        gql: Run) -> None:
    await steps.product(gql, "CONSOLE", on_hand=3, customerLimit=2)
    bought = await steps.order(gql, ALICE, "CONSOLE", 5)  # 3 from stock, 2 on back order
    assert bought["__typename"] == "PlaceOrderPayload"
    assert bought["order"]["lines"][0]["backorderedQuantity"] == 2
    await gql("""mutation { adjustStock(sku: "CONSOLE", delta: 2, reason: "in") {
      __typename } }""", STAFF)
    allocated = await BackOrder.get(customer_id=ALICE.subject)
    assert allocated.status == "ALLOCATED"
    refused = await steps.order(gql, ALICE, "CONSOLE", 1)
    assert (refused["__typename"], refused["held"]) == ("CustomerLimitReachedError", 2)


async def test_shipped_and_cancelled_back_orders_give_their_units_back(gql: Run) -> None:
    await steps.product(gql, "CONSOLE", customerLimit=2)
    first = await steps.back_order(gql, ALICE, "CONSOLE", 2)
    assert (await steps.order(gql, ALICE, "CONSOLE", 1))["__typename"] == (
        "CustomerLimitReachedError")
    cancelled = await gql(CANCEL_BACK_ORDER, ALICE, id=first["id"])
    assert cancelled["cancelBackOrder"]["__typename"] == "BackOrderPayload"
    second = await steps.back_order(gql, ALICE, "CONSOLE", 2)
    await gql("""mutation { adjustStock(sku: "CONSOLE", delta: 2, reason: "in") {
      __typename } }""", STAFF)
    shipped = await gql(SHIP_BACK_ORDER, STAFF, id=second["id"])
    assert shipped["shipBackOrder"]["__typename"] == "BackOrderPayload"
    assert (await steps.order(gql, ALICE, "CONSOLE", 2))["__typename"] == "PlaceOrderPayload"


async def test_a_pre_order_counts_in_full_even_with_stock(gql: Run) -> None:
    release = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    await steps.product(gql, "GAME", on_hand=100, releaseDate=release, customerLimit=1)
    assert (await steps.order(gql, ALICE, "GAME", 1))["__typename"] == "PlaceOrderPayload"
    refused = await steps.order(gql, ALICE, "GAME", 1)
    assert (refused["__typename"], refused["limit"], refused["held"]) == (
        "CustomerLimitReachedError", 1, 1)


async def test_a_multi_line_order_over_one_limit_places_no_line(gql: Run) -> None:
    await steps.product(gql, "CONSOLE", customerLimit=1)
    await steps.product(gql, "PAD")
    data = await gql(PLACE_ORDER, ALICE, input={
        "lines": [{"sku": "PAD", "quantity": 4}, {"sku": "CONSOLE", "quantity": 2}],
        "idempotencyKey": "two-lines"})
    assert data["placeOrder"]["__typename"] == "CustomerLimitReachedError"
    assert data["placeOrder"]["sku"] == "CONSOLE"
    assert await BackOrder.all().count() == 0
    assert (await Product.get(sku="PAD")).waiting == 0


async def test_staff_set_change_and_clear_the_limit_and_bad_values_are_refused(
        gql: Run) -> None:
    await steps.product(gql, "CONSOLE")
    for bad in (0, -1):
        data = await gql(UPDATE_POLICY, STAFF, sku="CONSOLE", input={"customerLimit": bad})
        assert data["updateBackorderPolicy"]["__typename"] == "InvalidInputError"
        assert data["updateBackorderPolicy"]["field"] == "customerLimit"
    assert (await Product.get(sku="CONSOLE")).customer_limit is None
    data = await gql(UPDATE_POLICY, STAFF, sku="CONSOLE", input={"customerLimit": 3})
    assert data["updateBackorderPolicy"]["product"]["policy"]["customerLimit"] == 3
    data = await gql(UPDATE_POLICY, STAFF, sku="CONSOLE", input={"backorderCap": 10})
    assert data["updateBackorderPolicy"]["product"]["policy"]["customerLimit"] == 3
    data = await gql(UPDATE_POLICY, STAFF, sku="CONSOLE", input={"clearCustomerLimit": True})
    assert data["updateBackorderPolicy"]["product"]["policy"]["customerLimit"] is None
    refused = await gql(UPDATE_POLICY, ALICE, sku="CONSOLE", input={"customerLimit": 1})
    assert refused["updateBackorderPolicy"]["__typename"] == "ForbiddenError"


async def test_concurrent_orders_of_one_customer_cannot_both_pass_the_limit(
        gql: Run) -> None:
    await steps.product(gql, "CONSOLE", customerLimit=3)
    placed = await asyncio.gather(*(steps.order(gql, ALICE, "CONSOLE", 1) for _ in range(8)),
                                  return_exceptions=True)
    kinds = [p["__typename"] if isinstance(p, dict) else repr(p) for p in placed]
    assert kinds.count("PlaceOrderPayload") == 3, kinds
    assert kinds.count("CustomerLimitReachedError") == 5, kinds
    assert sum(b.quantity for b in await BackOrder.filter(customer_id=ALICE.subject)) == 3
