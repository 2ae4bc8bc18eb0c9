"""The customer's choices on a waiting back order and the shop's promises kept on schedule:
a cancel-by date, the answer to a delay offer, compensation for being late (issue 16).

The scheduled parts (``cancel_overdue``, ``compensate_late``) are sweeps: each finds the
back orders that are due and handles each in its own transaction, under its product's lock,
after checking the rule again on the locked row. So a sweep run twice, by two instances at
once or again after a crash, does each thing exactly once, and one back order that fails
never holds back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from api.domain.errors import InvalidTransition
from api.domain.identity import Actor
from api.domain.model import OPEN_STATUSES
from api.domain.promises import (
    Compensation,
    cancel_by_due,
    check_cancel_by,
    compensation_cutoff,
    compensation_due,
    compensation_for,
    delay_offer_open,
)
from api.services.backorders import cancel_locked, lock, owned
from api.services.changes import Changes
from api.services.clock import utcnow
from api.store.models import BackOrder, Order, Product

log = logging.getLogger("backorders.promises")

SWEEP_BATCH = 200
"""Back orders one sweep handles at most; the next sweep takes the rest."""


async def set_cancel_by(actor: Actor | None, back_order_id: int, cancel_by: date | None,
                        now: datetime | None = None) -> BackOrder:
    """The customer (or staff) sets or clears the day after which the back order cancels
    itself unless it has shipped. The same value again changes nothing."""
    changes = Changes(now or utcnow())
    if cancel_by is not None:
        check_cancel_by(cancel_by, changes.now.date())
    async with in_transaction():
        _, back_order = await owned(actor, back_order_id)
        if back_order.status not in OPEN_STATUSES:
            raise InvalidTransition("back order", back_order.status.value, "CANCEL_BY_SET")
        if back_order.cancel_by == cancel_by:
            return back_order
        previous = back_order.cancel_by
        back_order.cancel_by = cancel_by
        changes.touch(back_order, "cancel_by")
        assert actor is not None
        changes.record(back_order, "CANCEL_BY_SET", cancel_by=cancel_by, previous=previous,
                       by="staff" if actor.is_staff else "customer")
        await changes.flush()
    return back_order


async def accept_delay(actor: Actor | None, back_order_id: int,
                       now: datetime | None = None) -> BackOrder:
    """The customer answers a delay offer with "keep waiting": the back order keeps its
    place; the answer is on record."""
    changes = Changes(now or utcnow())
    async with in_transaction():
        _, back_order = await owned(actor, back_order_id)
        if not delay_offer_open(back_order.delayed, back_order.delay_offered_at,
                                back_order.delay_accepted_at):
            state = ("ACCEPTED" if back_order.delay_accepted_at is not None
                     and back_order.delayed else "NO_OFFER")
            raise InvalidTransition("delay offer", state, "ACCEPTED")
        back_order.delay_accepted_at = changes.now
        changes.touch(back_order, "delay_accepted_at")
        assert actor is not None
        changes.record(back_order, "DELAY_ACCEPTED", estimated_ship_date=(
            back_order.estimated_ship_date), promised_date=back_order.promised_date,
            by="staff" if actor.is_staff else "customer")
        await changes.flush()
    return back_order


async def each_due(query: QuerySet[Any], handle: Callable[[int], Awaitable[int]],
                   what: str, page: int) -> int:
    """Hand each row of ``query`` (its id) to ``handle`` (each in its own transaction), in
    id pages, so one that keeps failing never hides those after it; returns the sum."""
    done = last = 0
    while True:
        due = await query.filter(id__gt=last).order_by("id").limit(page).values_list(
            "id", flat=True)
        for back_order_id in due:
            last = int(back_order_id)  # type: ignore[call-overload]
            try:
                done += await handle(last)
            except Exception:  # retried next sweep; the others go on
                log.exception("%s of %s %s failed", what, query.model.__name__, last)
        if len(due) < page:
            return done


async def cancel_overdue(now: datetime | None = None, page: int = SWEEP_BATCH) -> int:
    """Cancel, with a full refund, the open back orders whose cancel-by day has passed.
    Returns how many were cancelled."""
    at = now or utcnow()
    due = BackOrder.filter(cancel_by__lt=at.date(), status__in=sorted(OPEN_STATUSES))
    return await each_due(due, lambda i: _cancel_if_due(i, at), "cancel-by", page)


async def _cancel_if_due(back_order_id: int, now: datetime) -> int:
    changes = Changes(now)
    async with in_transaction():
        product, back_order = await lock(back_order_id)
        if not cancel_by_due(back_order.cancel_by, back_order.status, now.date()):
            return 0  # shipped, cancelled or moved meanwhile (or done by another sweep)
        await cancel_locked(product, back_order, changes,
                            "not shipped by the date the customer set", "schedule",
                            cancel_by=back_order.cancel_by)
    return 1


def product_compensation(product: Product) -> Compensation | None:
    """The product's own compensation policy, or None when the shop's applies."""
    if product.compensation_after_days is None:
        return None
    return Compensation(product.compensation_after_days, product.compensation_amount,
                        product.compensation_percent)


async def compensate_late(shop: Compensation | None, now: datetime | None = None,
                          page: int = SWEEP_BATCH) -> int:
    """Credit, once each, the open back orders late past their policy's days. Returns how
    many were credited."""
    at = now or utcnow()
    done = 0
    products = await Product.all().only(
        "id", "compensation_after_days", "compensation_amount", "compensation_percent")
    for product in products:
        policy = compensation_for(product_compensation(product), shop)
        if policy is None:
            continue
        due = BackOrder.filter(
            product_id=product.id, status__in=sorted(OPEN_STATUSES), compensated_at=None,
            promised_date__lt=compensation_cutoff(policy, at.date()), unit_price__gt=0)
        done += await each_due(due, lambda i: _compensate_if_due(i, shop, at),
                                "compensation", page)
    return done


async def _compensate_if_due(back_order_id: int, shop: Compensation | None,
                             now: datetime) -> int:
    changes = Changes(now)
    async with in_transaction():
        product, back_order = await lock(back_order_id)
        policy = compensation_for(product_compensation(product), shop)
        paid = back_order.unit_price * back_order.quantity
        if not compensation_due(policy, back_order.promised_date, back_order.status,
                                back_order.compensated_at is not None, paid, now.date()):
            return 0
        assert policy is not None
        credit: Decimal = policy.credit(paid)
        back_order.compensated_amount = credit
        back_order.compensated_at = now
        changes.touch(back_order, "compensated_amount", "compensated_at")
        changes.record(back_order, "COMPENSATED", amount=credit,
                       days_late=(now.date() - back_order.promised_date).days,
                       after_days=policy.after_days, promised_date=back_order.promised_date)
        await Order.filter(id=back_order.order_id).update(
            amount_credited=F("amount_credited") + credit)
        await changes.flush()
    return 1
