"""Shipping what has arrived (issue 16, part 6) on SQLite and PostgreSQL: staff ship the
allocated part of a partly allocated back order and the rest keeps its place; a cancellation
afterwards refunds only what did not ship; an order that ships together ships no part
before everything is there; the customer chooses, and the stock figures stay true."""

from __future__ import annotations

import asyncio
from typing import Any

from api.domain.identity import Actor
from api.store.models import Notification, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import ADJUST_STOCK, CANCEL_BACK_ORDER, PLACE_ORDER
from tests.integration.test_queries import SET_PREFERENCES

BACK_ORDER_FIELDS = """id status quantity allocatedQuantity shippedQuantity remainingQuantity
  queuePosition trackingCode refundedAmount { amount } shipments { units trackingCode }"""
SHIP_PART = f"""
mutation($id: ID!, $code: String!) {{
  shipAllocatedUnits(id: $id, trackingCode: $code) {{
    __typename
    ... on BackOrderPayload {{ backOrder {{ {BACK_ORDER_FIELDS} }} }}
    ... on Error {{ code message }}
    ... on InvalidTransitionError {{ fromStatus toStatus }}
  }}
}}"""
SHIP_REST = f"""
mutation($id: ID!, $code: String!) {{
  shipBackOrder(id: $id, trackingCode: $code) {{
    __typename
    ... on BackOrderPayload {{ backOrder {{ {BACK_ORDER_FIELDS} }} }}
    ... on Error {{ code message }}
    ... on InvalidTransitionError {{ fromStatus toStatus }}
  }}
}}"""
SHIP_LINE = """
mutation($id: ID!) {
  shipOrderLine(id: $id) {
    __typename
    ... on OrderLinePayload { line { shippedAt } }
    ... on InvalidTransitionError { fromStatus toStatus }
  }
}"""
SET_SHIPPING = """
mutation($id: ID!, $shipping: ShippingPreference!) {
  setOrderShipping(id: $id, shipping: $shipping) {
    __typename
    ... on OrderPayload { order { id shipping } }
    ... on Error { code message }
  }
}"""
READ = f"""query($id: ID!) {{ backOrder(id: $id) {{ {BACK_ORDER_FIELDS}
  history {{ kind detail }} order {{ amountRefunded {{ amount }} }} }} }}"""
STOCK = """query($sku: String!) { product(sku: $sku) { stock { onHand allocated available
  backordered } } }"""
ORDER_TOGETHER = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on PlaceOrderPayload { replayed order { id shipping lines { id }
      backOrders { id status } } }
    ... on Error { code message }
  }
}"""


async def _count_in(gql: Run, sku: str, units: int) -> None:
    data = await gql(ADJUST_STOCK, STAFF, sku=sku, delta=units)
    assert data["adjustStock"]["__typename"] == "ProductPayload", data


async def _stock(gql: Run, sku: str) -> dict[str, Any]:
    stock: dict[str, Any] = (await gql(STOCK, sku=sku))["product"]["stock"]
    return stock


async def _read(gql: Run, back_order_id: str) -> dict[str, Any]:
    row: dict[str, Any] = (await gql(READ, STAFF, id=back_order_id))["backOrder"]
    return row


async def test_the_allocated_part_ships_and_the_rest_keeps_its_place(gql: Run) -> None:
    await gql(SET_PREFERENCES, ALICE, input={"email": "alice@example.com",
                                             "channels": ["EMAIL"]})
    await steps.product(gql, "KB", leadTimeDays=10)
    bo = await steps.back_order(gql, ALICE, "KB", 5)
    behind = await steps.back_order(gql, BOB, "KB", 1)
    await _count_in(gql, "KB", 2)

    part = (await gql(SHIP_PART, STAFF, id=bo["id"], code="P1"))["shipAllocatedUnits"]
    assert part["__typename"] == "BackOrderPayload", part
    row = part["backOrder"]
    assert (row["status"], row["allocatedQuantity"], row["shippedQuantity"],
            row["remainingQuantity"], row["queuePosition"]) == (
        "PARTIALLY_ALLOCATED", 2, 2, 3, 1)
    assert row["shipments"] == [{"units": 2, "trackingCode": "P1"}]
    assert await _stock(gql, "KB") == {"onHand": 0, "allocated": 0, "available": 0,
                                       "backordered": 4}
    assert (await _read(gql, behind["id"]))["queuePosition"] == 2
    [told] = await Notification.filter(event="PARTIALLY_SHIPPED")
    assert (told.customer_id, told.data["shipped_now"], told.data["shipped"]) == (
        "alice", 2, 2)

    # Nothing new set aside: nothing to ship; the rest ships once it is all there.
    again = (await gql(SHIP_PART, STAFF, id=bo["id"], code="P1"))["shipAllocatedUnits"]
    assert again["fromStatus"] == "NOTHING_NEW_SET_ASIDE"
    early = (await gql(SHIP_REST, STAFF, id=bo["id"], code="P2"))["shipBackOrder"]
    assert early["fromStatus"] == "PARTIALLY_ALLOCATED"
    await _count_in(gql, "KB", 3)
    full = (await gql(SHIP_PART, STAFF, id=bo["id"], code="P2"))["shipAllocatedUnits"]
    assert (full["fromStatus"], full["toStatus"]) == ("ALLOCATED", "PARTIALLY_SHIPPED")
    rest = (await gql(SHIP_REST, STAFF, id=bo["id"], code="P2"))["shipBackOrder"]["backOrder"]
    assert (rest["status"], rest["shippedQuantity"], rest["trackingCode"]) == (
        "SHIPPED", 5, "P2")
    assert rest["shipments"] == [{"units": 2, "trackingCode": "P1"},
                                 {"units": 3, "trackingCode": "P2"}]
    history = [(h["kind"], h["detail"].get("units"))
               for h in (await _read(gql, bo["id"]))["history"]
               if h["kind"] in ("PARTIALLY_SHIPPED", "SHIPPED")]
    assert history == [("PARTIALLY_SHIPPED", 2), ("SHIPPED", 3)]
    assert await _stock(gql, "KB") == {"onHand": 0, "allocated": 0, "available": 0,
                                       "backordered": 1}


async def test_a_cancellation_after_a_part_shipped_refunds_only_the_rest(gql: Run) -> None:
    await steps.product(gql, "KB", price="10.00")
    bo = await steps.back_order(gql, ALICE, "KB", 5)
    behind = await steps.back_order(gql, BOB, "KB", 1)
    await _count_in(gql, "KB", 2)
    await gql(SHIP_PART, STAFF, id=bo["id"], code="P1")
    await _count_in(gql, "KB", 1)  # one more set aside for her, not shipped
    cancelled = (await gql(CANCEL_BACK_ORDER, ALICE, id=bo["id"]))["cancelBackOrder"]
    assert cancelled["back_order"]["refundedAmount"]["amount"] == "30.00"
    row = await _read(gql, bo["id"])
    assert (row["status"], row["shippedQuantity"], row["allocatedQuantity"]) == (
        "CANCELLED", 2, 2)
    assert row["order"]["amountRefunded"]["amount"] == "30.00"
    # The unit set aside for her and not shipped went to Bob.
    assert (await _read(gql, behind["id"]))["status"] == "ALLOCATED"
    product = await Product.get(sku="KB")
    assert (product.on_hand, product.allocated, product.waiting) == (1, 1, 0)


async def _together(gql: Run, actor: Actor, key: str, **extra: Any) -> dict[str, Any]:
    placed: dict[str, Any] = (await gql(ORDER_TOGETHER, actor, input={
        "lines": [{"sku": "MUG", "quantity": 1}, {"sku": "KB", "quantity": 2}],
        "idempotencyKey": key, **extra}))["placeOrder"]
    return placed


async def test_an_order_that_ships_together_ships_nothing_before_it_is_all_there(
        gql: Run) -> None:
    await steps.product(gql, "MUG", on_hand=10)
    await steps.product(gql, "KB")
    placed = await _together(gql, ALICE, "t1", shipping="SHIP_TOGETHER")
    order = placed["order"]
    assert order["shipping"] == "SHIP_TOGETHER"
    [bo] = order["backOrders"]
    mug_line = order["lines"][0]["id"]

    refused = (await gql(SHIP_LINE, STAFF, id=mug_line))["shipOrderLine"]
    assert (refused["fromStatus"], refused["toStatus"]) == ("SHIPS_WITH_ITS_ORDER", "SHIPPED")
    await _count_in(gql, "KB", 1)
    part = (await gql(SHIP_PART, STAFF, id=bo["id"], code="X"))["shipAllocatedUnits"]
    assert part["fromStatus"] == "SHIPS_WITH_ITS_ORDER"
    assert (await _stock(gql, "KB"))["allocated"] == 1  # still in the warehouse
    await _count_in(gql, "KB", 1)
    assert (await gql(SHIP_LINE, STAFF, id=mug_line))["shipOrderLine"]["__typename"] == (
        "OrderLinePayload")
    shipped = (await gql(SHIP_REST, STAFF, id=bo["id"], code="X"))["shipBackOrder"]
    assert shipped["backOrder"]["status"] == "SHIPPED"

    # Two back orders of one order: one allocated does not ship while the other waits.
    await steps.product(gql, "LAMP")
    two = (await gql(ORDER_TOGETHER, BOB, input={
        "lines": [{"sku": "KB", "quantity": 1}, {"sku": "LAMP", "quantity": 1}],
        "idempotencyKey": "t2", "shipping": "SHIP_TOGETHER"}))["placeOrder"]["order"]
    await _count_in(gql, "KB", 1)
    kb = two["backOrders"][0]  # (the lines in order: the keyboard first)
    early = (await gql(SHIP_REST, STAFF, id=kb["id"], code="Y"))["shipBackOrder"]
    assert early["fromStatus"] == "SHIPS_WITH_ITS_ORDER"
    # Bob changes his mind: ship as allocated.
    changed = (await gql(SET_SHIPPING, BOB, id=two["id"], shipping="SHIP_AS_ALLOCATED"))
    assert changed["setOrderShipping"]["order"]["shipping"] == "SHIP_AS_ALLOCATED"
    now = (await gql(SHIP_REST, STAFF, id=kb["id"], code="Y"))["shipBackOrder"]
    assert now["backOrder"]["status"] == "SHIPPED"


async def test_the_shipping_choice_is_the_customers_and_part_of_the_request(
        gql: Run) -> None:
    await steps.product(gql, "MUG", on_hand=10)
    await steps.product(gql, "KB")
    first = await _together(gql, ALICE, "k1")
    assert first["order"]["shipping"] == "SHIP_AS_ALLOCATED"
    # The same key and lines without the field: the same order (older keys still replay).
    replay = await _together(gql, ALICE, "k1")
    assert replay["replayed"] is True
    conflict = await _together(gql, ALICE, "k1", shipping="SHIP_TOGETHER")
    assert conflict["code"] == "IDEMPOTENCY_CONFLICT"
    order_id = first["order"]["id"]
    not_bobs = (await gql(SET_SHIPPING, BOB, id=order_id, shipping="SHIP_TOGETHER"))
    assert not_bobs["setOrderShipping"]["code"] == "NOT_FOUND"
    anonymous = (await gql(SET_SHIPPING, None, id=order_id, shipping="SHIP_TOGETHER"))
    assert anonymous["setOrderShipping"]["code"] == "FORBIDDEN"
    by_staff = (await gql(SET_SHIPPING, STAFF, id=order_id, shipping="SHIP_TOGETHER"))
    assert by_staff["setOrderShipping"]["order"]["shipping"] == "SHIP_TOGETHER"
    unknown = (await gql(SET_SHIPPING, ALICE, id="999", shipping="SHIP_TOGETHER"))
    assert unknown["setOrderShipping"]["code"] == "NOT_FOUND"


async def test_bad_partial_shipments_get_typed_errors(gql: Run) -> None:
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 2)
    waiting = (await gql(SHIP_PART, STAFF, id=bo["id"], code=""))["shipAllocatedUnits"]
    assert waiting["fromStatus"] == "WAITING"
    by_customer = (await gql(SHIP_PART, ALICE, id=bo["id"], code=""))["shipAllocatedUnits"]
    assert by_customer["code"] == "FORBIDDEN"
    missing = (await gql(SHIP_PART, STAFF, id="999", code=""))["shipAllocatedUnits"]
    assert missing["code"] == "NOT_FOUND"
    long_code = (await gql(SHIP_PART, STAFF, id=bo["id"], code="x" * 500))
    assert long_code["shipAllocatedUnits"]["code"] == "INVALID_INPUT"


async def test_a_customer_limit_counts_what_has_not_shipped(gql: Run) -> None:
    await steps.product(gql, "KB", customerLimit=3)
    bo = await steps.back_order(gql, ALICE, "KB", 3)
    assert (await steps.order(gql, ALICE, "KB", 1))["__typename"] == (
        "CustomerLimitReachedError")
    await _count_in(gql, "KB", 2)
    await gql(SHIP_PART, STAFF, id=bo["id"], code="P")
    more = await gql(PLACE_ORDER, ALICE, input={"lines": [{"sku": "KB", "quantity": 2}],
                                               "idempotencyKey": "after-part"})
    assert more["placeOrder"]["__typename"] == "PlaceOrderPayload", more


async def test_concurrent_partial_shipments_ship_the_units_once(gql: Run) -> None:
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 4)
    await _count_in(gql, "KB", 3)
    shipped = await asyncio.gather(*(gql(SHIP_PART, STAFF, id=bo["id"], code=f"P{n}")
                                     for n in range(4)))
    kinds = sorted(s["shipAllocatedUnits"]["__typename"] for s in shipped)
    assert kinds == ["BackOrderPayload"] + ["InvalidTransitionError"] * 3
    row = await _read(gql, bo["id"])
    assert (row["shippedQuantity"], len(row["shipments"])) == (3, 1)
    product = await Product.get(sku="KB")
    assert (product.on_hand, product.allocated) == (0, 0)
