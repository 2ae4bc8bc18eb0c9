"""Placing orders: stock first, the shortfall to the queue, typed refusals, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.store.models import BackOrder, Order, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import PLACE_ORDER, PRODUCT


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def test_in_stock_units_are_allocated_and_the_shortfall_joins_the_queue(gql: Run) -> None:
    await steps.product(gql, "MUG", on_hand=2, price="12.50", leadTimeDays=14)
    placed = await steps.order(gql, ALICE, "MUG", 5)
    line = placed["order"]["lines"][0]
    assert (line["allocatedQuantity"], line["backorderedQuantity"]) == (2, 3)
    assert placed["order"]["amountCharged"] == {"amount": "62.50", "currencyCode": "USD"}
    [bo] = placed["order"]["backOrders"]
    assert (bo["status"], bo["quantity"], bo["queuePosition"], bo["unitsAhead"]) == (
        "WAITING", 3, 1, 0)
    assert bo["estimatedShipDate"] == in_days(14)
    assert bo["estimateIsScheduled"] is False
    assert bo["promisedDate"] == bo["estimatedShipDate"]
    assert bo["version"] == 1


async def test_queue_positions_and_units_ahead_follow_placement(gql: Run) -> None:
    await steps.product(gql, "KB")
    first = await steps.back_order(gql, ALICE, "KB", 3)
    second = await steps.back_order(gql, BOB, "KB", 2)
    assert (first["queuePosition"], second["queuePosition"]) == (1, 2)
    assert second["unitsAhead"] == 3


async def test_a_restock_gives_dates_from_cumulative_supply(gql: Run) -> None:
    await steps.product(gql, "KB", handlingDays=1, leadTimeDays=30)
    await steps.restock(gql, "KB", 4, in_days(5))
    await steps.restock(gql, "KB", 10, in_days(20))
    covered = await steps.back_order(gql, ALICE, "KB", 4)
    later = await steps.back_order(gql, BOB, "KB", 1)
    assert covered["estimatedShipDate"] == in_days(6)
    assert later["estimatedShipDate"] == in_days(21)
    assert later["estimateIsScheduled"] is True


async def test_staff_priority_jumps_the_queue(gql: Run) -> None:
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    data = await gql(PLACE_ORDER, STAFF, input={
        "lines": [{"sku": "KB", "quantity": 1}], "idempotencyKey": "vip",
        "customerId": "vip-customer", "priority": 5,
    })
    assert data["placeOrder"]["order"]["backOrders"][0]["queuePosition"] == 1
    moved = await BackOrder.get(customer_id="alice")
    assert (moved.queue_position, moved.version) == (2, 2)


async def test_no_back_orders_allowed_is_out_of_stock(gql: Run) -> None:
    await steps.product(gql, "LAMP", on_hand=1, allowBackorders=False)
    refused = await steps.order(gql, ALICE, "LAMP", 2)
    assert refused["__typename"] == "OutOfStockError"
    assert (refused["requested"], refused["orderable"]) == (2, 1)
    data = await gql(PRODUCT, None, sku="LAMP")
    assert data["product"]["stock"]["allocated"] == 0
    assert await Order.all().count() == 0


async def test_the_cap_limits_waiting_units(gql: Run) -> None:
    await steps.product(gql, "KB", backorderCap=3)
    await steps.back_order(gql, ALICE, "KB", 3)
    refused = await steps.order(gql, BOB, "KB", 1)
    assert refused["__typename"] == "OutOfStockError"
    assert refused["reason"] == "back-order cap reached"
    assert (await gql(PRODUCT, None, sku="KB"))["product"]["availability"] == "OUT_OF_STOCK"


async def test_a_multi_line_order_is_all_or_nothing(gql: Run) -> None:
    await steps.product(gql, "A", on_hand=5)
    await steps.product(gql, "B", allowBackorders=False)
    data = await gql(PLACE_ORDER, ALICE, input={
        "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}],
        "idempotencyKey": "two-lines",
    })
    assert data["placeOrder"]["__typename"] == "OutOfStockError"
    assert (await Product.get(sku="A")).allocated == 0


async def test_the_same_key_and_lines_return_the_first_order(gql: Run) -> None:
    await steps.product(gql, "KB")
    first = await steps.order(gql, ALICE, "KB", 2, key="retry-me")
    again = await steps.order(gql, ALICE, "KB", 2, key="retry-me")
    assert again["replayed"] is True
    assert again["order"]["id"] == first["order"]["id"]
    assert await BackOrder.all().count() == 1


async def test_the_same_key_with_other_lines_is_a_conflict(gql: Run) -> None:
    await steps.product(gql, "KB")
    await steps.order(gql, ALICE, "KB", 2, key="k")
    conflict = await steps.order(gql, ALICE, "KB", 3, key="k")
    assert conflict["__typename"] == "IdempotencyConflictError"
    assert await BackOrder.all().count() == 1


async def test_keys_belong_to_one_customer(gql: Run) -> None:
    await steps.product(gql, "KB")
    await steps.order(gql, ALICE, "KB", 2, key="same")
    other = await steps.order(gql, BOB, "KB", 2, key="same")
    assert other["replayed"] is False


async def test_bad_quantities_are_refused_per_field(gql: Run) -> None:
    await steps.product(gql, "KB")
    for quantity in (0, -3):
        refused = await steps.order(gql, ALICE, "KB", quantity)
        assert (refused["__typename"], refused["field"]) == (
            "InvalidInputError", "lines.0.quantity")
    assert await Order.all().count() == 0


async def test_an_unknown_sku_is_not_found(gql: Run) -> None:
    refused = await steps.order(gql, ALICE, "NOPE", 1)
    assert (refused["__typename"], refused["code"]) == ("NotFoundError", "NOT_FOUND")


async def test_anonymous_cannot_order(gql: Run) -> None:
    await steps.product(gql, "KB")
    data = await gql(PLACE_ORDER, None, input={
        "lines": [{"sku": "KB", "quantity": 1}], "idempotencyKey": "x"})
    assert data["placeOrder"]["__typename"] == "ForbiddenError"


async def test_customers_cannot_set_priority_or_order_for_others(gql: Run) -> None:
    await steps.product(gql, "KB")
    for extra in ({"priority": 3}, {"customerId": "bob"}):
        data = await gql(PLACE_ORDER, ALICE, input={
            "lines": [{"sku": "KB", "quantity": 1}], "idempotencyKey": "x", **extra})
        assert data["placeOrder"]["__typename"] == "ForbiddenError"
    assert await Order.all().count() == 0


async def test_pre_orders_wait_for_release_even_with_stock(gql: Run) -> None:
    await steps.product(gql, "COURSE", on_hand=10, releaseDate=in_days(30), handlingDays=0)
    bo = await steps.back_order(gql, ALICE, "COURSE", 1)
    # The units on hand wait for the release (then go to the pre-orders in queue order).
    assert (bo["status"], bo["queuePosition"]) == ("WAITING", 1)
    assert bo["estimatedShipDate"] == in_days(30)
    assert (await gql(PRODUCT, None, sku="COURSE"))["product"]["availability"] == "PREORDER"


QUOTE = """query($sku: String!, $q: Int!) {
  product(sku: $sku) { estimatedShipDate(quantity: $q) } }"""


async def _quote(gql: Run, sku: str, quantity: int) -> str | None:
    data = await gql(QUOTE, None, sku=sku, q=quantity)
    date: str | None = data["product"]["estimatedShipDate"]
    return date


async def test_the_quoted_date_is_the_date_the_order_gets(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=2, leadTimeDays=30, handlingDays=1)
    await steps.restock(gql, "KB", 3, in_days(5))
    await steps.restock(gql, "KB", 4, in_days(40))
    for customer, quantity in ((ALICE, 1), (BOB, 3), (ALICE, 2), (BOB, 4), (ALICE, 1)):
        quoted = await _quote(gql, "KB", quantity)
        placed = await steps.order(gql, customer, "KB", quantity)
        got = [bo["estimatedShipDate"] for bo in placed["order"]["backOrders"]]
        assert quoted == (got[0] if got else in_days(1)), (quantity, quoted, got)


async def test_no_quote_beyond_what_can_be_ordered(gql: Run) -> None:
    await steps.product(gql, "KB", backorderCap=3)
    assert await _quote(gql, "KB", 3) is not None
    assert await _quote(gql, "KB", 4) is None
