"""Receiving, rescheduling and cancelling restocks moves the queue."""

from __future__ import annotations

from api.store.models import BackOrder, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import (
    ADJUST_STOCK,
    BACK_ORDER,
    CANCEL_RESTOCK,
    PLACE_ORDER,
    PRODUCT,
    RECEIVE_RESTOCK,
    RESCHEDULE_RESTOCK,
    SCHEDULE_RESTOCK,
)
from tests.integration.test_ordering import in_days


async def test_a_partial_receipt_fills_the_head_first(gql: Run) -> None:
    await steps.product(gql, "KB")
    first = await steps.back_order(gql, ALICE, "KB", 3)
    second = await steps.back_order(gql, BOB, "KB", 2)
    restock = await steps.restock(gql, "KB", 10, in_days(3))
    data = await gql(RECEIVE_RESTOCK, STAFF, id=restock, quantity=2)
    assert data["receiveRestock"]["restock"]["status"] == "PARTIALLY_RECEIVED"
    head = (await gql(BACK_ORDER, ALICE, id=first["id"]))["backOrder"]
    behind = (await gql(BACK_ORDER, BOB, id=second["id"]))["backOrder"]
    assert (head["status"], head["allocatedQuantity"], head["queuePosition"]) == (
        "PARTIALLY_ALLOCATED", 2, 1)
    assert (behind["allocatedQuantity"], behind["queuePosition"], behind["unitsAhead"]) == (
        0, 2, 1)
    assert [e["kind"] for e in head["history"]] == ["PLACED", "DATE_CHANGED",
                                                    "PARTIALLY_ALLOCATED"]


async def test_a_head_filled_in_part_twice_stays_partially_allocated(gql: Run) -> None:
    await steps.product(gql, "KB")
    head = await steps.back_order(gql, ALICE, "KB", 5)
    restock = await steps.restock(gql, "KB", 10, in_days(3))
    await gql(RECEIVE_RESTOCK, STAFF, id=restock, quantity=1)
    data = await gql(RECEIVE_RESTOCK, STAFF, id=restock, quantity=2)
    assert data["receiveRestock"]["__typename"] == "RestockPayload"
    after = (await gql(BACK_ORDER, ALICE, id=head["id"]))["backOrder"]
    assert (after["status"], after["allocatedQuantity"]) == ("PARTIALLY_ALLOCATED", 3)


async def test_a_full_receipt_allocates_in_line_order(gql: Run) -> None:
    await steps.product(gql, "KB")
    first = await steps.back_order(gql, ALICE, "KB", 3)
    second = await steps.back_order(gql, BOB, "KB", 2)
    restock = await steps.restock(gql, "KB", 4, in_days(3))
    data = await gql(RECEIVE_RESTOCK, STAFF, id=restock)
    assert data["receiveRestock"]["restock"]["status"] == "RECEIVED"
    head = (await gql(BACK_ORDER, ALICE, id=first["id"]))["backOrder"]
    behind = (await gql(BACK_ORDER, BOB, id=second["id"]))["backOrder"]
    assert (head["status"], head["queuePosition"]) == ("ALLOCATED", None)
    assert (behind["status"], behind["allocatedQuantity"], behind["queuePosition"]) == (
        "PARTIALLY_ALLOCATED", 1, 1)
    product = await Product.get(sku="KB")
    assert (product.on_hand, product.allocated, product.waiting) == (4, 4, 1)


async def test_units_counted_in_go_to_the_queue_before_new_orders(gql: Run) -> None:
    await steps.product(gql, "KB")
    waiting = await steps.back_order(gql, ALICE, "KB", 2)
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=2)
    later = await steps.order(gql, BOB, "KB", 1)
    assert later["order"]["lines"][0]["allocatedQuantity"] == 0
    assert (await gql(BACK_ORDER, ALICE, id=waiting["id"]))["backOrder"]["status"] == "ALLOCATED"


async def test_stock_cannot_drop_below_what_is_promised(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=3)
    await steps.order(gql, ALICE, "KB", 2)
    data = await gql(ADJUST_STOCK, STAFF, sku="KB", delta=-2)
    assert data["adjustStock"]["__typename"] == "InsufficientStockError"
    assert data["adjustStock"]["free"] == 1
    assert (await Product.get(sku="KB")).on_hand == 3


async def test_a_later_restock_marks_the_back_order_delayed(gql: Run) -> None:
    await steps.product(gql, "KB", handlingDays=0, delayGraceDays=2)
    restock = await steps.restock(gql, "KB", 5, in_days(5))
    bo = await steps.back_order(gql, ALICE, "KB", 1)
    await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(6))
    assert (await gql(BACK_ORDER, ALICE, id=bo["id"]))["backOrder"]["delayed"] is False
    await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(9))
    moved = (await gql(BACK_ORDER, ALICE, id=bo["id"]))["backOrder"]
    assert moved["delayed"] is True
    assert moved["promisedDate"] == in_days(5)
    assert moved["history"][-1]["kind"] == "DELAYED"


async def test_a_cancelled_restock_falls_back_to_lead_time(gql: Run) -> None:
    await steps.product(gql, "KB", leadTimeDays=20)
    restock = await steps.restock(gql, "KB", 5, in_days(5))
    bo = await steps.back_order(gql, ALICE, "KB", 1)
    data = await gql(CANCEL_RESTOCK, STAFF, id=restock)
    assert data["cancelRestock"]["restock"]["status"] == "CANCELLED"
    after = (await gql(BACK_ORDER, ALICE, id=bo["id"]))["backOrder"]
    assert (after["estimatedShipDate"], after["estimateIsScheduled"]) == (in_days(20), False)
    again = await gql(RECEIVE_RESTOCK, STAFF, id=restock)
    assert again["receiveRestock"]["__typename"] == "InvalidTransitionError"


async def test_restock_mutations_are_staff_only(gql: Run) -> None:
    await steps.product(gql, "KB")
    restock = await steps.restock(gql, "KB", 5, in_days(5))
    data = await gql(RECEIVE_RESTOCK, ALICE, id=restock)
    assert data["receiveRestock"]["__typename"] == "ForbiddenError"
    assert (await gql(PRODUCT, None, sku="KB"))["product"]["stock"]["onHand"] == 0


async def test_a_malformed_restock_id_is_invalid_input(gql: Run) -> None:
    data = await gql(RECEIVE_RESTOCK, STAFF, id="abc")
    assert (data["receiveRestock"]["__typename"], data["receiveRestock"]["field"]) == (
        "InvalidInputError", "id")


async def test_receiving_restores_order_of_a_long_queue(gql: Run) -> None:
    await steps.product(gql, "KB")
    for i in range(12):
        await gql(PLACE_ORDER, ALICE if i % 2 else BOB, input={
            "lines": [{"sku": "KB", "quantity": 1 + i % 3}], "idempotencyKey": f"k{i}"})
    restock = await steps.restock(gql, "KB", 9, in_days(2))
    await gql(RECEIVE_RESTOCK, STAFF, id=restock)
    rows = await BackOrder.all().order_by("id")
    allocated = [bo.allocated for bo in rows]
    assert sum(allocated) == 9
    # Everything before the first short one is full; everything after it has nothing.
    short = next(i for i, bo in enumerate(rows) if bo.allocated < bo.quantity)
    assert all(bo.allocated == bo.quantity for bo in rows[:short])
    assert all(bo.allocated == 0 for bo in rows[short + 1:])
    positions = [bo.queue_position for bo in rows if bo.queue_position is not None]
    assert positions == list(range(1, len(positions) + 1))


RESTOCKS = """
query($sku: String!) {
  restocks(sku: $sku, includeClosed: true) {
    id status quantity received outstanding overDelivered
  }
}"""


async def test_an_over_delivery_is_counted_in_full_and_recorded_as_such(gql: Run) -> None:
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 4)
    restock = await steps.restock(gql, "KB", 3, in_days(3))

    data = await gql(RECEIVE_RESTOCK, STAFF, id=restock, quantity=4)

    assert data["receiveRestock"]["restock"] == {
        "id": restock, "status": "RECEIVED", "received": 4, "outstanding": 0}
    [row] = (await gql(RESTOCKS, STAFF, sku="KB"))["restocks"]
    assert row == {"id": restock, "status": "RECEIVED", "quantity": 3, "received": 4,
                   "outstanding": 0, "overDelivered": 1}
    assert (await Product.get(sku="KB")).on_hand == 4
    after = (await gql(BACK_ORDER, ALICE, id=bo["id"]))["backOrder"]
    assert (after["status"], after["allocatedQuantity"]) == ("ALLOCATED", 4)


async def test_a_cancelled_restock_has_nothing_outstanding(gql: Run) -> None:
    await steps.product(gql, "KB")
    restock = await steps.restock(gql, "KB", 5, in_days(3))
    await gql(RECEIVE_RESTOCK, STAFF, id=restock, quantity=2)

    data = await gql(CANCEL_RESTOCK, STAFF, id=restock)

    assert data["cancelRestock"]["restock"]["status"] == "CANCELLED"
    [row] = (await gql(RESTOCKS, STAFF, sku="KB"))["restocks"]
    assert row == {"id": restock, "status": "CANCELLED", "quantity": 5, "received": 2,
                   "outstanding": 0, "overDelivered": 0}


async def test_a_restock_cannot_be_expected_in_the_past(gql: Run) -> None:
    await steps.product(gql, "KB")
    data = await gql(SCHEDULE_RESTOCK, STAFF, input={
        "sku": "KB", "quantity": 5, "expectedDate": in_days(-1)})
    assert data["scheduleRestock"]["__typename"] == "InvalidInputError"
