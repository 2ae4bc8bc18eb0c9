"""The customer's choices and the shop's promises (issue 16, parts 2 to 4) on SQLite and
PostgreSQL: a cancel-by date that cancels on schedule, answers to delay offers, and
compensation for late back orders; each scheduled promise kept exactly once, however many
sweeps run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from api.domain.promises import Compensation
from api.graphql.queries import parse_id
from api.scheduling.sweeper import Sweeper
from api.services import promises
from api.services.clock import utcnow
from api.store.models import BackOrder, BackOrderEvent, Notification, Order, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import (
    ADJUST_STOCK,
    RESCHEDULE_RESTOCK,
    SHIP_BACK_ORDER,
    UPDATE_POLICY,
)
from tests.integration.test_ordering import in_days
from tests.integration.test_queries import SET_PREFERENCES

SET_CANCEL_BY = """
mutation($id: ID!, $cancelBy: Date) {
  setBackOrderCancelBy(id: $id, cancelBy: $cancelBy) {
    __typename
    ... on BackOrderPayload { backOrder { id cancelBy version } }
    ... on Error { code message }
    ... on InvalidInputError { field }
    ... on InvalidTransitionError { fromStatus toStatus }
  }
}"""

ACCEPT_DELAY = """
mutation($id: ID!) {
  acceptDelay(id: $id) {
    __typename
    ... on BackOrderPayload { backOrder { id delayed delayOfferOpen delayAcceptedAt } }
    ... on Error { code message }
    ... on InvalidTransitionError { fromStatus toStatus }
  }
}"""

PROMISES = """
query($id: ID!) {
  backOrder(id: $id) {
    status cancelBy delayed delayOfferOpen delayAcceptedAt queuePosition
    refundedAmount { amount } compensatedAmount { amount } compensatedAt
    order { amountCredited { amount } amountRefunded { amount } }
    history { kind detail }
  }
}"""

POLICY = """
query($sku: String!) {
  product(sku: $sku) { policy { compensation { afterDays percent amount { amount } } } }
}"""


def _id(back_order: dict[str, Any]) -> int:
    return parse_id(back_order["id"])


async def _read(gql: Run, back_order: dict[str, Any]) -> dict[str, Any]:
    return (await gql(PROMISES, STAFF, id=back_order["id"]))["backOrder"]  # type: ignore[no-any-return]


def _day(days: int) -> datetime:
    """Noon UTC, ``days`` from today."""
    today = utcnow().date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, 12, tzinfo=UTC)


async def _email(gql: Run, *who: Any) -> None:
    for actor in who:
        await gql(SET_PREFERENCES, actor, input={
            "email": f"{actor.subject}@example.com", "channels": ["EMAIL"]})


async def test_a_cancel_by_day_passed_unshipped_cancels_once_with_a_full_refund(
        gql: Run) -> None:
    await _email(gql, ALICE, BOB)
    await steps.product(gql, "KB", leadTimeDays=20)
    first = await steps.back_order(gql, ALICE, "KB", 2)
    second = await steps.back_order(gql, BOB, "KB", 1)
    set_ = await gql(SET_CANCEL_BY, ALICE, id=first["id"], cancelBy=in_days(5))
    assert set_["setBackOrderCancelBy"]["backOrder"]["cancelBy"] == in_days(5)
    sweeper = Sweeper(60, None)

    # On its day it still waits; the day after, it cancels: two sweeps at once, one cancel.
    assert (await sweeper.run_once(_day(5))).cancelled == 0
    swept = await asyncio.gather(sweeper.run_once(_day(6)), sweeper.run_once(_day(6)))
    assert sum(s.cancelled for s in swept) == 1
    assert (await sweeper.run_once(_day(7))).cancelled == 0

    after = await _read(gql, first)
    assert after["status"] == "CANCELLED"
    assert after["refundedAmount"]["amount"] == "20.00"
    assert after["order"]["amountRefunded"]["amount"] == "20.00"
    [cancelled] = [h for h in after["history"] if h["kind"] == "CANCELLED"]
    assert cancelled["detail"]["by"] == "schedule"
    assert cancelled["detail"]["cancel_by"] == in_days(5)
    assert await BackOrderEvent.filter(kind="CANCELLED").count() == 1
    # Its place goes to the next in line, and Alice is told why.
    assert (await _read(gql, second))["queuePosition"] == 1
    [told] = await Notification.filter(event="CANCELLED")
    assert (told.customer_id, told.data["cancel_by"]) == ("alice", in_days(5))
    assert (await Product.get(sku="KB")).waiting == 1


async def test_a_sweep_pages_through_everything_due(gql: Run) -> None:
    await steps.product(gql, "KB", leadTimeDays=5)
    placed = [await steps.back_order(gql, who, "KB", 1) for who in (ALICE, BOB, ALICE)]
    for back_order in placed:
        owner = ALICE if back_order is not placed[1] else BOB
        await gql(SET_CANCEL_BY, owner, id=back_order["id"], cancelBy=in_days(0))
    assert await promises.cancel_overdue(_day(1), page=1) == 3
    assert await promises.compensate_late(Compensation(0, amount=Decimal("1.00")),
                                          _day(30), page=1) == 0  # all closed now
    assert {b.status for b in await BackOrder.all()} == {"CANCELLED"}


async def test_a_shipped_or_cleared_back_order_is_not_cancelled_by_its_date(
        gql: Run) -> None:
    await steps.product(gql, "KB", leadTimeDays=20)
    shipped = await steps.back_order(gql, ALICE, "KB", 1)
    cleared = await steps.back_order(gql, ALICE, "KB", 1)
    later = await steps.back_order(gql, BOB, "KB", 1)
    for back_order in (shipped, cleared):
        await gql(SET_CANCEL_BY, ALICE, id=back_order["id"], cancelBy=in_days(1))
    await gql(SET_CANCEL_BY, BOB, id=later["id"], cancelBy=in_days(30))
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)
    assert (await gql(SHIP_BACK_ORDER, STAFF, id=shipped["id"]))["shipBackOrder"][
        "__typename"] == "BackOrderPayload"
    cleared_now = await gql(SET_CANCEL_BY, ALICE, id=cleared["id"], cancelBy=None)
    assert cleared_now["setBackOrderCancelBy"]["backOrder"]["cancelBy"] is None

    assert (await Sweeper(60, None).run_once(_day(10))).cancelled == 0
    statuses = [(await _read(gql, b))["status"] for b in (shipped, cleared, later)]
    assert statuses == ["SHIPPED", "WAITING", "WAITING"]


async def test_bad_cancel_by_requests_are_refused_and_change_nothing(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=0)
    mine = await steps.back_order(gql, ALICE, "KB", 1)
    version = (await BackOrder.get(id=_id(mine))).version

    async def answer(actor: Any, cancel_by: str | None, id: str = mine["id"]) -> dict[str, Any]:
        data = await gql(SET_CANCEL_BY, actor, id=id, cancelBy=cancel_by)
        return data["setBackOrderCancelBy"]  # type: ignore[no-any-return]

    for bad in (in_days(-1), in_days(731)):
        refused = await answer(ALICE, bad)
        assert (refused["__typename"], refused["field"]) == ("InvalidInputError", "cancelBy")
    assert (await answer(BOB, in_days(3)))["__typename"] == "NotFoundError"
    assert (await answer(None, in_days(3)))["__typename"] in (
        "UnauthenticatedError", "ForbiddenError")
    assert (await answer(ALICE, in_days(3), id="999999"))["__typename"] == "NotFoundError"
    # The same value again changes nothing; a closed back order refuses.
    assert (await answer(ALICE, None))["backOrder"]["version"] == version
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)
    await gql(SHIP_BACK_ORDER, STAFF, id=mine["id"])
    refused = await answer(ALICE, in_days(3))
    assert (refused["__typename"], refused["fromStatus"]) == ("InvalidTransitionError",
                                                            "SHIPPED")
    assert await BackOrderEvent.filter(kind="CANCEL_BY_SET").count() == 0
    assert (await BackOrder.get(id=_id(mine))).cancel_by is None


async def test_a_delay_offer_is_answered_once_and_a_new_delay_opens_another(
        gql: Run) -> None:
    await _email(gql, ALICE)
    await steps.product(gql, "KB", leadTimeDays=30, delayGraceDays=1)
    restock = await steps.restock(gql, "KB", 5, in_days(3))
    mine = await steps.back_order(gql, ALICE, "KB", 1)
    first = await _read(gql, mine)
    assert (first["delayed"], first["delayOfferOpen"]) == (False, False)
    refused = (await gql(ACCEPT_DELAY, ALICE, id=mine["id"]))["acceptDelay"]
    assert (refused["__typename"], refused["fromStatus"]) == ("InvalidTransitionError",
                                                            "NO_OFFER")

    await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(10))
    offered = await _read(gql, mine)
    assert (offered["delayed"], offered["delayOfferOpen"]) == (True, True)
    assert await Notification.filter(event="DELAY_OFFER", customer_id="alice").count() == 1
    assert (await gql(ACCEPT_DELAY, BOB, id=mine["id"]))["acceptDelay"]["__typename"] == (
        "NotFoundError")

    accepted = (await gql(ACCEPT_DELAY, ALICE, id=mine["id"]))["acceptDelay"]
    assert accepted["__typename"] == "BackOrderPayload"
    assert accepted["backOrder"]["delayOfferOpen"] is False
    assert accepted["backOrder"]["delayAcceptedAt"] is not None
    again = (await gql(ACCEPT_DELAY, ALICE, id=mine["id"]))["acceptDelay"]
    assert (again["__typename"], again["fromStatus"]) == ("InvalidTransitionError", "ACCEPTED")
    after = await _read(gql, mine)
    assert after["status"] == "WAITING" and after["queuePosition"] == 1
    assert [h["detail"]["by"] for h in after["history"] if h["kind"] == "DELAY_ACCEPTED"] == [
        "customer"]
    # She is told her answer is on record; the offer not yet sent is moot now.
    [confirmed] = await Notification.filter(event="DELAY_ACCEPTED")
    assert (confirmed.customer_id, confirmed.data["queue_position"]) == ("alice", 1)
    [offer] = await Notification.filter(event="DELAY_OFFER")
    assert (offer.status.value, offer.last_error) == (
        "SUPPRESSED", "made moot by a later delay accepted message")

    # Back on time, then late again: a new offer, open until answered.
    await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(3))
    assert (await _read(gql, mine))["delayed"] is False
    await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(12))
    reopened = await _read(gql, mine)
    assert (reopened["delayed"], reopened["delayOfferOpen"]) == (True, True)


async def test_a_late_back_order_is_compensated_once_by_its_products_policy(
        gql: Run) -> None:
    await _email(gql, ALICE)
    await steps.product(gql, "KB", price="12.50", leadTimeDays=10,
                        compensation={"afterDays": 3, "percent": "10"})
    policy = (await gql(POLICY, ALICE, sku="KB"))["product"]["policy"]["compensation"]
    assert policy == {"afterDays": 3, "percent": "10.00", "amount": None}
    mine = await steps.back_order(gql, ALICE, "KB", 3)  # paid 37.50, promised in 10 days
    sweeper = Sweeper(60, Compensation(0, amount=Decimal("100.00")))  # the product's wins

    assert (await sweeper.run_once(_day(13))).compensated == 0  # 3 days late: not more
    swept = await asyncio.gather(sweeper.run_once(_day(14)), sweeper.run_once(_day(14)))
    assert sum(s.compensated for s in swept) == 1
    assert (await sweeper.run_once(_day(40))).compensated == 0

    after = await _read(gql, mine)
    assert after["compensatedAmount"]["amount"] == "3.75"
    assert after["order"]["amountCredited"]["amount"] == "3.75"
    assert after["compensatedAt"] is not None
    [line] = [h for h in after["history"] if h["kind"] == "COMPENSATED"]
    assert (line["detail"]["amount"], line["detail"]["days_late"]) == ("3.75", 4)
    [told] = await Notification.filter(event="COMPENSATED")
    assert (told.customer_id, told.data["credit_amount"]) == ("alice", "3.75")
    # A credit is no refund: cancelling still refunds what was paid, in full.
    order = await Order.get(id=(await BackOrder.get(id=_id(mine))).order_id)
    assert order.amount_refunded == 0


async def test_the_shops_policy_applies_without_a_products_and_skips_what_shipped(
        gql: Run) -> None:
    await steps.product(gql, "KB", leadTimeDays=5)
    await steps.product(gql, "FREE", price="0", leadTimeDays=5)
    late = await steps.back_order(gql, ALICE, "KB", 1)
    shipped = await steps.back_order(gql, BOB, "KB", 1)
    free = await steps.back_order(gql, ALICE, "FREE", 1)
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)
    # Alice is first in line: she gets the unit; ship hers and let Bob's wait.
    await gql(SHIP_BACK_ORDER, STAFF, id=late["id"])
    sweeper = Sweeper(60, Compensation(2, amount=Decimal("5.00")))
    assert (await sweeper.run_once(_day(9))).compensated == 1
    amounts = [(await _read(gql, b))["compensatedAmount"]["amount"]
               for b in (late, shipped, free)]
    assert amounts == ["0.00", "5.00", "0.00"]
    # Without a shop policy and with the product's cleared, nothing more is owed.
    await gql(UPDATE_POLICY, STAFF, sku="KB", input={
        "compensation": {"afterDays": 1, "amount": "1.00"}})
    await gql(UPDATE_POLICY, STAFF, sku="KB", input={"clearCompensation": True})
    assert (await gql(POLICY, STAFF, sku="KB"))["product"]["policy"]["compensation"] is None
    assert (await Sweeper(60, None).run_once(_day(30))).compensated == 0, [
        (b.id, b.product_id, b.compensated_amount, b.status) for b in await BackOrder.all()]


async def test_a_bad_compensation_policy_is_refused_and_changes_nothing(gql: Run) -> None:
    await steps.product(gql, "KB")
    for bad, field in (({"afterDays": 3}, "compensation"),
                       ({"afterDays": 3, "amount": "1", "percent": "5"}, "compensation"),
                       ({"afterDays": -1, "amount": "1"}, "compensation.afterDays"),
                       ({"afterDays": 3, "percent": "150"}, "compensation.percent"),
                       ({"afterDays": 3, "amount": "0.001"}, "compensation.amount")):
        data = await gql(UPDATE_POLICY, STAFF, sku="KB", input={"compensation": bad})
        refused = data["updateBackorderPolicy"]
        assert (refused["__typename"], refused["field"]) == ("InvalidInputError", field), bad
    product = await Product.get(sku="KB")
    assert (product.compensation_after_days, product.compensation_amount,
            product.compensation_percent) == (None, None, None)
    forbidden = await gql(UPDATE_POLICY, ALICE, sku="KB", input={
        "compensation": {"afterDays": 1, "amount": "1.00"}})
    assert forbidden["updateBackorderPolicy"]["__typename"] == "ForbiddenError"
