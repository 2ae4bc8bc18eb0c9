"""Cancelling (with refund) and shipping back orders."""

from __future__ import annotations

from decimal import Decimal

from api.store.models import BackOrder, Order, OrderLine, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import (
    ADJUST_STOCK,
    BACK_ORDER,
    CANCEL_BACK_ORDER,
    PRODUCT_FIGURES,
    SHIP_BACK_ORDER,
)
from tests.integration.test_ordering import in_days


async def test_cancelling_refunds_and_hands_units_to_the_next_in_line(gql: Run) -> None:
    await steps.product(gql, "KB", price="20.00")
    first = await steps.back_order(gql, ALICE, "KB", 2)
    second = await steps.back_order(gql, BOB, "KB", 2)
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=2)
    data = await gql(CANCEL_BACK_ORDER, ALICE, id=first["id"])
    assert data["cancelBackOrder"]["back_order"]["status"] == "CANCELLED"
    assert data["cancelBackOrder"]["back_order"]["refundedAmount"] == {"amount": "40.00"}
    cancelled = (await gql(BACK_ORDER, ALICE, id=first["id"]))["backOrder"]
    assert (cancelled["allocatedQuantity"], cancelled["queuePosition"]) == (0, None)
    after = (await gql(BACK_ORDER, BOB, id=second["id"]))["backOrder"]
    assert (after["status"], after["allocatedQuantity"]) == ("ALLOCATED", 2)
    order = await Order.get(customer_id="alice")
    assert order.amount_refunded == Decimal("40.00")
    product = await Product.get(sku="KB")
    assert (product.on_hand, product.allocated, product.waiting) == (2, 2, 0)


async def test_cancelling_twice_is_an_invalid_transition(gql: Run) -> None:
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 2)
    await gql(CANCEL_BACK_ORDER, ALICE, id=bo["id"])
    again = (await gql(CANCEL_BACK_ORDER, ALICE, id=bo["id"]))["cancelBackOrder"]
    assert (again["__typename"], again["fromStatus"], again["toStatus"]) == (
        "InvalidTransitionError", "CANCELLED", "CANCELLED")
    assert (await Order.get(customer_id="alice")).amount_refunded == Decimal("20.00")


async def test_a_customer_cannot_cancel_another_customers_back_order(gql: Run) -> None:
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 2)
    refused = (await gql(CANCEL_BACK_ORDER, BOB, id=bo["id"]))["cancelBackOrder"]
    # Not found, as for an id that does not exist: nothing tells Bob that it does.
    assert refused["__typename"] == "NotFoundError"
    assert (await BackOrder.get(id=int(bo["id"]))).status == "WAITING"


async def test_cancel_with_bad_ids(gql: Run) -> None:
    missing = (await gql(CANCEL_BACK_ORDER, ALICE, id="999"))["cancelBackOrder"]
    assert missing["__typename"] == "NotFoundError"
    malformed = (await gql(CANCEL_BACK_ORDER, ALICE, id="BO-1'; drop"))["cancelBackOrder"]
    assert (malformed["__typename"], malformed["field"]) == ("InvalidInputError", "id")


async def test_shipping_needs_a_full_allocation(gql: Run) -> None:
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 2)
    early = (await gql(SHIP_BACK_ORDER, STAFF, id=bo["id"]))["shipBackOrder"]
    assert early["__typename"] == "InvalidTransitionError"
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=2)
    shipped = (await gql(SHIP_BACK_ORDER, STAFF, id=bo["id"]))["shipBackOrder"]
    assert shipped["backOrder"] == {"id": bo["id"], "status": "SHIPPED", "trackingCode": "TRK-1"}
    product = await Product.get(sku="KB")
    assert (product.on_hand, product.allocated) == (0, 0)
    history = (await gql(BACK_ORDER, ALICE, id=bo["id"]))["backOrder"]["history"]
    kinds = [e["kind"] for e in history]
    assert kinds[0] == "PLACED" and kinds[-1] == "SHIPPED" and "ALLOCATED" in kinds
    assert [e["version"] for e in history] == sorted(e["version"] for e in history)


async def test_customers_cannot_ship(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=0)
    bo = await steps.back_order(gql, ALICE, "KB", 1)
    refused = (await gql(SHIP_BACK_ORDER, ALICE, id=bo["id"]))["shipBackOrder"]
    assert refused["__typename"] == "ForbiddenError"


async def test_nothing_ships_before_release(gql: Run) -> None:
    await steps.product(gql, "COURSE", on_hand=5, releaseDate=in_days(10))
    pre_order = await steps.back_order(gql, ALICE, "COURSE", 1)
    refused = (await gql(SHIP_BACK_ORDER, STAFF, id=pre_order["id"]))["shipBackOrder"]
    assert refused["__typename"] == "InvalidTransitionError"  # it waits for the release
    # A back order set aside before its product got a release date waits for it too.
    await steps.product(gql, "BOARD", on_hand=0)
    bo = await steps.back_order(gql, ALICE, "BOARD", 1)
    await gql(ADJUST_STOCK, STAFF, sku="BOARD", delta=1)
    await gql(UPDATE_RELEASE, STAFF, sku="BOARD", date=in_days(10))
    refused = (await gql(SHIP_BACK_ORDER, STAFF, id=bo["id"]))["shipBackOrder"]
    assert refused["__typename"] == "NotReleasedError"
    assert (await BackOrder.get(id=int(bo["id"]))).status == "ALLOCATED"


async def test_cash_collected_ahead_of_stock(gql: Run) -> None:
    await steps.product(gql, "KB", price="15.00")
    await steps.back_order(gql, ALICE, "KB", 2)
    await steps.back_order(gql, BOB, "KB", 3)
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)
    figures = (await gql(PRODUCT_FIGURES, STAFF, sku="KB"))["product"]["queueFigures"]
    assert figures == {"openBackOrders": 2, "cashCollectedAheadOfStock": {"amount": "60.00"}}


SHIP_LINE = """mutation($id: ID!) {
  shipOrderLine(id: $id, trackingCode: "TRK-9") {
    __typename
    ... on OrderLinePayload { line { shippedAt trackingCode } }
    ... on InvalidTransitionError { fromStatus }
  }
}"""


async def test_shipping_the_in_stock_part_of_an_order_releases_its_allocation(gql: Run) -> None:
    await steps.product(gql, "MUG", on_hand=5)
    placed = await steps.order(gql, ALICE, "MUG", 2)
    line_id = (await OrderLine.get(order_id=int(placed["order"]["id"]))).id
    shipped = (await gql(SHIP_LINE, STAFF, id=str(line_id)))["shipOrderLine"]
    assert shipped["line"]["trackingCode"] == "TRK-9"
    product = await Product.get(sku="MUG")
    assert (product.on_hand, product.allocated) == (3, 0)
    again = (await gql(SHIP_LINE, STAFF, id=str(line_id)))["shipOrderLine"]
    assert (again["__typename"], again["fromStatus"]) == ("InvalidTransitionError", "SHIPPED")
    assert (await gql(SHIP_LINE, ALICE, id=str(line_id)))["shipOrderLine"]["__typename"] == (
        "ForbiddenError")


UPDATE_RELEASE = """mutation($sku: String!, $date: Date!) {
  updateBackorderPolicy(sku: $sku, input: {releaseDate: $date}) { __typename } }"""


async def test_a_later_release_moves_the_date_of_reserved_pre_orders(gql: Run) -> None:
    await steps.product(gql, "COURSE", on_hand=5, releaseDate=in_days(10), handlingDays=0,
                        delayGraceDays=2)
    bo = await steps.back_order(gql, ALICE, "COURSE", 1)
    assert (bo["status"], bo["estimatedShipDate"]) == ("WAITING", in_days(10))
    await gql(UPDATE_RELEASE, STAFF, sku="COURSE", date=in_days(20))
    moved = (await gql(BACK_ORDER, ALICE, id=bo["id"]))["backOrder"]
    assert (moved["estimatedShipDate"], moved["delayed"]) == (in_days(20), True)
    assert [e["kind"] for e in moved["history"]][-3:] == [
        "DATE_CHANGED", "DELAYED", "RELEASE_DATE_MOVED"]


async def test_queue_figures_are_null_for_customers(gql: Run) -> None:
    await steps.product(gql, "KB")
    data = await gql(PRODUCT_FIGURES, ALICE, sku="KB")
    assert data["product"] == {"queueFigures": None}
