"""How and when back orders are paid (issue 15, part 2) on SQLite and PostgreSQL: in full at
order, a deposit and the balance as units are set aside, or an authorization captured at
the release; every entry in the order's ledger; cancellation refunds what was taken and
voids what was held; authorizations flagged before they lapse, lapsed, renewed by staff;
the cash ahead of stock counts deposits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from api.services import payments
from api.services.clock import utcnow
from api.store.models import BackOrder, Charge, Notification, Order
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import ADJUST_STOCK, CANCEL_BACK_ORDER, UPDATE_POLICY
from tests.integration.test_pre_orders import RELEASE, _emails, in_days

LEDGER = """query($id: ID!) {
  order(id: $id) { amountCharged { amount } amountRefunded { amount }
    charges { kind reason state amount { amount } backOrderId validUntil }
    backOrders { id paidAmount { amount } authorizedAmount { amount } } }
}"""
FIGURES = """query($sku: String!) {
  product(sku: $sku) { policy { paymentMode depositAmount { amount } depositPercent }
    queueFigures { cashCollectedAheadOfStock { amount } } }
}"""
EXPIRING = """{ expiringAuthorizations { kind state backOrderId amount { amount } } }"""
RENEW = """mutation($id: ID!) { renewAuthorization(id: $id) { __typename
  ... on BackOrderPayload { backOrder { authorizedAmount { amount } } }
  ... on InvalidTransitionError { fromStatus } } }"""


def _entries(order: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(c["kind"], c["reason"], c["state"], c["amount"]["amount"])
            for c in order["charges"]]


async def _ledger(gql: Run, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql(LEDGER, STAFF, id=order_id))["order"]
    return found


async def _placed(gql: Run, actor: Any, sku: str, quantity: int) -> dict[str, Any]:
    placed = await steps.order(gql, actor, sku, quantity)
    assert placed["__typename"] == "PlaceOrderPayload", placed
    return placed["order"]


async def test_in_full_takes_everything_at_order_and_refunds_it_on_cancel(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=1, price="10.00")
    order = await _placed(gql, ALICE, "KB", 3)  # one from stock, two back-ordered
    ledger = await _ledger(gql, order["id"])
    assert _entries(ledger) == [("CHARGE", "IN_STOCK", "SUCCEEDED", "10.00"),
                                ("CHARGE", "BACK_ORDER", "SUCCEEDED", "20.00")]
    assert ledger["amountCharged"]["amount"] == "30.00"
    bo = ledger["backOrders"][0]
    cancelled = await gql(CANCEL_BACK_ORDER, ALICE, id=bo["id"])
    assert cancelled["cancelBackOrder"]["back_order"]["refundedAmount"]["amount"] == "20.00"
    ledger = await _ledger(gql, order["id"])
    assert _entries(ledger)[-1] == ("REFUND", "CANCELLATION", "SUCCEEDED", "20.00")
    assert ledger["amountRefunded"]["amount"] == "20.00"


async def test_a_deposit_then_the_balance_as_units_are_set_aside(gql: Run) -> None:
    await steps.product(gql, "BIKE", price="100.00",
                        payment={"mode": "DEPOSIT", "depositPercent": "20"})
    await _emails(gql, ALICE)
    order = await _placed(gql, ALICE, "BIKE", 2)
    ledger = await _ledger(gql, order["id"])
    assert _entries(ledger) == [("CHARGE", "DEPOSIT", "SUCCEEDED", "40.00")]
    assert ledger["amountCharged"]["amount"] == "40.00"
    figures = (await gql(FIGURES, STAFF, sku="BIKE"))["product"]
    assert figures["policy"]["paymentMode"] == "DEPOSIT"
    assert figures["queueFigures"]["cashCollectedAheadOfStock"]["amount"] == "40.00"
    # One unit in: it is worth 100.00, so 60.00 more is taken; the second takes the rest.
    await gql(ADJUST_STOCK, STAFF, sku="BIKE", delta=1)
    ledger = await _ledger(gql, order["id"])
    assert _entries(ledger)[-1] == ("CHARGE", "BALANCE", "SUCCEEDED", "60.00")
    assert ledger["backOrders"][0]["paidAmount"]["amount"] == "100.00"
    figures = (await gql(FIGURES, STAFF, sku="BIKE"))["product"]
    assert figures["queueFigures"]["cashCollectedAheadOfStock"]["amount"] == "0.00"
    await gql(ADJUST_STOCK, STAFF, sku="BIKE", delta=1)
    ledger = await _ledger(gql, order["id"])
    assert _entries(ledger)[-1] == ("CHARGE", "BALANCE", "SUCCEEDED", "100.00")
    assert ledger["amountCharged"]["amount"] == "200.00"
    again = await _ledger(gql, order["id"])  # nothing more is taken for the same units
    assert len(again["charges"]) == 3
    sent = await Notification.filter(customer_id="alice").order_by("id")
    allocated = [n for n in sent if n.event == "ALLOCATED"]
    assert [n.data["charged_amount"] for n in allocated] == ["60.00", "100.00"]
    assert not [n for n in sent if n.event == "BALANCE_CHARGED"]  # ALLOCATED says it


async def test_on_release_authorizes_and_captures_at_the_release(gql: Run) -> None:
    await steps.product(gql, "GAME", on_hand=1, price="50.00", releaseDate=in_days(30),
                        payment={"mode": "ON_RELEASE"})
    alice = await _placed(gql, ALICE, "GAME", 1)
    bob = await _placed(gql, BOB, "GAME", 1)
    ledger = await _ledger(gql, alice["id"])
    [held] = ledger["charges"]
    assert (held["kind"], held["state"], held["amount"]["amount"]) == (
        "AUTHORIZATION", "AUTHORIZED", "50.00")
    assert held["validUntil"] is not None
    assert ledger["amountCharged"]["amount"] == "0.00"
    figures = (await gql(FIGURES, STAFF, sku="GAME"))["product"]
    assert figures["queueFigures"]["cashCollectedAheadOfStock"]["amount"] == "0.00"
    released = (await gql(RELEASE, STAFF, sku="GAME"))["releaseProduct"]
    assert released["__typename"] == "ProductPayload"
    ledger = await _ledger(gql, alice["id"])
    assert _entries(ledger) == [("AUTHORIZATION", "BACK_ORDER", "CLOSED", "50.00"),
                                ("CAPTURE", "BALANCE", "SUCCEEDED", "50.00")]
    assert ledger["amountCharged"]["amount"] == "50.00"
    # Bob waits for stock: held, not taken; cancelling voids the hold and refunds nothing.
    bob_bo = (await _ledger(gql, bob["id"]))["backOrders"][0]
    assert bob_bo["authorizedAmount"]["amount"] == "50.00"
    cancelled = await gql(CANCEL_BACK_ORDER, BOB, id=bob_bo["id"])
    assert cancelled["cancelBackOrder"]["back_order"]["refundedAmount"]["amount"] == "0.00"
    ledger = await _ledger(gql, bob["id"])
    assert _entries(ledger) == [("AUTHORIZATION", "BACK_ORDER", "CLOSED", "50.00"),
                                ("VOID", "CANCELLATION", "SUCCEEDED", "50.00")]


async def test_an_authorization_is_flagged_then_lapses_and_staff_renew_it(gql: Run) -> None:
    await steps.product(gql, "COURSE", price="30.00", releaseDate=in_days(60),
                        payment={"mode": "ON_RELEASE"})
    await _emails(gql, ALICE)
    order = await _placed(gql, ALICE, "COURSE", 1)
    bo_id = int(order["backOrders"][0]["id"])
    now = utcnow()
    assert await payments.flag_expiring(now) == 0
    assert (await gql(EXPIRING, STAFF))["expiringAuthorizations"] == []
    soon = now + timedelta(days=6, hours=1)  # within the 24 h notice of 7 days
    assert await payments.flag_expiring(soon) == 1
    assert await payments.flag_expiring(soon) == 0  # flagged once
    listed = (await gql(EXPIRING, STAFF))["expiringAuthorizations"]
    assert [(c["state"], c["backOrderId"]) for c in listed] == [("AUTHORIZED", str(bo_id))]
    told = await Notification.filter(customer_id="alice", event="AUTHORIZATION_EXPIRING")
    assert len(told) == 1 and told[0].data["authorized_amount"] == "30.00"
    assert await payments.flag_expiring(now + timedelta(days=8)) == 1  # it lapses
    lapsed = (await gql(EXPIRING, STAFF))["expiringAuthorizations"]
    assert [c["state"] for c in lapsed] == ["EXPIRED"]
    assert (await BackOrder.get(id=bo_id)).authorized_amount == 0
    renewed = (await gql(RENEW, STAFF, id=str(bo_id)))["renewAuthorization"]
    assert renewed["backOrder"]["authorizedAmount"]["amount"] == "30.00"
    assert (await gql(EXPIRING, STAFF))["expiringAuthorizations"] == []
    states = [c.state.value for c in await Charge.filter(order_id=int(order["id"])).order_by(
        "id")]
    assert states == ["CLOSED", "AUTHORIZED"]
    refused = (await gql(RENEW, ALICE, id=str(bo_id)))["renewAuthorization"]
    assert refused["__typename"] == "ForbiddenError"


async def test_a_lapsed_authorization_is_charged_anew_when_stock_comes(gql: Run) -> None:
    await steps.product(gql, "PAD", price="15.00", payment={"mode": "ON_RELEASE"})
    order = await _placed(gql, ALICE, "PAD", 2)
    assert await payments.flag_expiring(utcnow() + timedelta(days=8)) == 1
    await gql(ADJUST_STOCK, STAFF, sku="PAD", delta=2)
    ledger = await _ledger(gql, order["id"])
    assert _entries(ledger) == [("AUTHORIZATION", "BACK_ORDER", "EXPIRED", "30.00"),
                                ("CHARGE", "BALANCE", "SUCCEEDED", "30.00")]
    assert (await Order.get(id=int(order["id"]))).amount_charged == Decimal("30.00")


async def test_bad_payment_terms_are_refused_and_change_nothing(gql: Run) -> None:
    await steps.product(gql, "KB", price="10.00")
    for bad in ({"mode": "DEPOSIT"}, {"mode": "DEPOSIT", "depositPercent": "100"},
                {"mode": "DEPOSIT", "depositAmount": "0"},
                {"mode": "IN_FULL", "depositAmount": "5.00"}):
        data = await gql(UPDATE_POLICY, STAFF, sku="KB", input={"payment": bad})
        assert data["updateBackorderPolicy"]["__typename"] == "InvalidInputError", (bad, data)
    shown = (await gql(FIGURES, STAFF, sku="KB"))["product"]["policy"]
    assert shown == {"paymentMode": "IN_FULL", "depositAmount": None, "depositPercent": None}
    ok = await gql(UPDATE_POLICY, STAFF, sku="KB", input={
        "payment": {"mode": "DEPOSIT", "depositAmount": "2.50"}})
    assert ok["updateBackorderPolicy"]["__typename"] == "ProductPayload", ok
    shown = (await gql(FIGURES, STAFF, sku="KB"))["product"]["policy"]
    assert shown["depositAmount"] == {"amount": "2.50"}
