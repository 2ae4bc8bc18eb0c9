"""Notify-me lists (issue 16, part 1): a customer joins the waitlist of an out-of-stock
product without paying; freed units are held for waitlisters in join order
(``api/services/holding.py``); a hold is claimed as an order at the held price, left, or
expires and passes on. Every change takes the product's lock first, so holds never exceed
the free units and a unit is never held twice.

The scheduled parts (``expire_due``, ``remind_due``) are sweeps like the promises': each
entry in its own transaction, under its product's lock, with the rule checked again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.availability import availability
from api.domain.errors import Forbidden, InvalidTransition, NotFound
from api.domain.holds import check_claim, hold_expired
from api.domain.identity import Actor, require_actor
from api.domain.model import (
    OPEN_WAITLIST_STATUSES,
    Availability,
    NotificationStatus,
    WaitlistStatus,
)
from api.domain.money import charge
from api.services import holding, inputs, payments
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_product, lock_product_by_sku
from api.services.ordering import RESERVED_KEY_PREFIX
from api.services.promises import SWEEP_BATCH, each_due
from api.services.queue import resync_queue
from api.services.reads import Page, id_page
from api.store.models import Notification, Order, OrderLine, Product, WaitlistEntry

log = logging.getLogger("backorders.waitlist")

CLAIM_KEY = RESERVED_KEY_PREFIX + "{}"
"""The idempotency key of the order a hold turns into: one order per entry, ever."""


@dataclass(frozen=True)
class Claimed:
    entry: WaitlistEntry
    order: Order
    replayed: bool
    """True when the hold had been claimed before (the same order is answered)."""


async def join(actor: Actor | None, sku: str, quantity: int, customer_id: str | None = None,
               now: datetime | None = None) -> WaitlistEntry:
    """Put the customer on the product's waitlist (only while it is out of stock). Joining
    again while on it answers the entry they have, unchanged."""
    customer = _customer(require_actor(actor), customer_id)
    sku = inputs.sku(sku)
    validation.positive(quantity, "quantity")
    at = now or utcnow()
    async with in_transaction():
        product = await lock_product_by_sku(sku)
        existing = await WaitlistEntry.filter(
            product_id=product.id, customer_id=customer,
            status__in=sorted(OPEN_WAITLIST_STATUSES)).first()
        if existing is not None:
            return existing
        shown = availability(product.stock, product.policy, product.discontinued, at.date())
        if product.discontinued:
            raise InvalidTransition("product", "DISCONTINUED", "WAITLISTED")
        if shown is not Availability.OUT_OF_STOCK:
            raise InvalidTransition("product", shown.value, "WAITLISTED")
        entry = WaitlistEntry(product_id=product.id, customer_id=customer, quantity=quantity,
                              joined_at=at)
        await entry.save()
    return entry


async def leave(actor: Actor | None, entry_id: int, now: datetime | None = None
                ) -> WaitlistEntry:
    """The customer leaves the waitlist; units they held pass to the next waitlisters (or
    to the queue). Leaving again answers the entry as it is."""
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, entry = await _owned(actor, entry_id)
        if entry.status is WaitlistStatus.LEFT:
            return entry
        if entry.status not in OPEN_WAITLIST_STATUSES:
            raise InvalidTransition("waitlist entry", entry.status.value, "LEFT")
        _close(entry, product, WaitlistStatus.LEFT, changes)
        await _drop_moot_notices(entry, "the customer left the waitlist")
        await resync_queue(product, changes)
        await changes.flush()
    return entry


async def claim(actor: Actor | None, entry_id: int, currency: str,
                now: datetime | None = None) -> Claimed:
    """Turn a hold into an order for the held units at the held price, allocated at once.
    Claiming a claimed hold again answers its order; an expired one cannot be claimed."""
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, entry = await _owned(actor, entry_id)
        if entry.status is WaitlistStatus.CLAIMED and entry.order_id is not None:
            return Claimed(entry, await Order.get(id=entry.order_id), replayed=True)
        check_claim(entry.status, entry.hold_expires_at, changes.now)
        assert entry.held_price is not None
        units = entry.held
        order = Order(customer_id=entry.customer_id, idempotency_key=CLAIM_KEY.format(entry.id),
                      request_hash=CLAIM_KEY.format(entry.id), currency=currency,
                      amount_charged=charge(entry.held_price, units), placed_at=changes.now)
        await order.save()
        line = await OrderLine.create(order_id=order.id, product_id=product.id,
                                      quantity=units, unit_price=entry.held_price,
                                      amount_charged=charge(entry.held_price, units),
                                      allocated_now=units, backordered=0)
        payments.placed(line, None, product, changes)
        product.held -= units
        product.allocated += units
        entry.held = 0
        entry.status = WaitlistStatus.CLAIMED
        entry.order_id = order.id
        entry.closed_at = changes.now
        changes.waitlist_changed(entry)
        changes.product_changed(product)
        await _drop_moot_notices(entry, "the hold was claimed")
        await changes.flush()
    return Claimed(entry, order, replayed=False)


async def expire_due(now: datetime | None = None, page: int = SWEEP_BATCH) -> int:
    """End the holds whose time is up; their units pass on. Returns how many expired."""
    at = now or utcnow()
    due = WaitlistEntry.filter(status=WaitlistStatus.HOLDING, hold_expires_at__lte=at)
    return await each_due(due, lambda i: _expire_if_due(i, at), "hold expiry", page)


async def _expire_if_due(entry_id: int, now: datetime) -> int:
    changes = Changes(now)
    async with in_transaction():
        product, entry = await _lock(entry_id)
        if entry.status is not WaitlistStatus.HOLDING or not hold_expired(
                entry.hold_expires_at, now):
            return 0  # claimed, left or done by another sweep meanwhile
        changes.notify(entry.customer_id, "HOLD_EXPIRED",
                       holding.notice_data(entry, product, expired_at=entry.hold_expires_at))
        _close(entry, product, WaitlistStatus.EXPIRED, changes)
        await _drop_moot_notices(entry, "the hold expired")
        await resync_queue(product, changes)
        await changes.flush()
    return 1


async def remind_due(now: datetime | None = None, page: int = SWEEP_BATCH) -> int:
    """Remind, once each, the holders whose hold ends soon. Returns how many were told."""
    at = now or utcnow()
    policy = holding.policy()
    if policy.remind_before_minutes == 0:
        return 0
    due = WaitlistEntry.filter(status=WaitlistStatus.HOLDING, reminded_at=None,
                               hold_expires_at__gt=at)
    return await each_due(due, lambda i: _remind_if_due(i, at), "hold reminder", page)


async def _remind_if_due(entry_id: int, now: datetime) -> int:
    changes = Changes(now)
    async with in_transaction():
        product, entry = await _lock(entry_id)
        if (entry.status is not WaitlistStatus.HOLDING or entry.hold_expires_at is None
                or not holding.policy().reminder_due(entry.hold_expires_at,
                                                     entry.reminded_at, now)):
            return 0
        entry.reminded_at = now
        changes.waitlist_changed(entry)
        changes.notify(entry.customer_id, "HOLD_EXPIRING", holding.notice_data(entry, product))
        await changes.flush()
    return 1


HOLD_NOTICES = ("HOLD_OFFERED", "HOLD_EXPIRING")


async def _drop_moot_notices(entry: WaitlistEntry, why: str) -> None:
    """A hold that ended makes its offer and reminder moot when they have not gone out."""
    pending = await Notification.filter(
        customer_id=entry.customer_id, event__in=HOLD_NOTICES,
        status=NotificationStatus.PENDING).only("id", "data")
    moot = [n.id for n in pending if n.data.get("waitlist_entry_id") == entry.id]
    if moot:
        await Notification.filter(id__in=moot, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.SUPPRESSED, last_error=why)


def _close(entry: WaitlistEntry, product: Product, status: WaitlistStatus,
           changes: Changes) -> None:
    product.held -= entry.held
    entry.held = 0
    entry.status = status
    entry.closed_at = changes.now
    changes.waitlist_changed(entry)
    changes.product_changed(product)


async def _owned(actor: Actor | None, entry_id: int) -> tuple[Product, WaitlistEntry]:
    product, entry = await _lock(entry_id)
    if not require_actor(actor).may_see(entry.customer_id):
        raise NotFound("WaitlistEntry", str(entry_id))
    return product, entry


async def _lock(entry_id: int) -> tuple[Product, WaitlistEntry]:
    """The entry's product first (the lock order of every use case), then the entry."""
    found = await WaitlistEntry.filter(id=entry_id).only("id", "product_id").first()
    if found is None:
        raise NotFound("WaitlistEntry", str(entry_id))
    product = await lock_product(found.product_id)
    entry = await WaitlistEntry.filter(id=entry_id).select_for_update().first()
    if entry is None:
        raise NotFound("WaitlistEntry", str(entry_id))
    return product, entry


def _customer(actor: Actor, customer_id: str | None) -> str:
    if customer_id is None:
        return actor.subject
    if not actor.is_staff and customer_id != actor.subject:
        raise Forbidden("customers join waitlists for themselves only")
    return inputs.customer_id(customer_id)


async def list_entries(actor: Actor | None, sku: str | None,
                       statuses: list[WaitlistStatus] | None, first: int, after: str | None,
                       customer_id: str | None = None) -> Page[WaitlistEntry]:
    """Waitlist entries the actor may see (their own; staff: all, or one customer's),
    newest first."""
    signed_in = require_actor(actor)
    base = WaitlistEntry.all()
    if not signed_in.is_staff:
        if customer_id not in (None, signed_in.subject):
            raise Forbidden("customers see their own waitlist entries only")
        base = base.filter(customer_id=signed_in.subject)
    elif customer_id is not None:
        base = base.filter(customer_id=inputs.customer_id(customer_id))
    if sku is not None:
        base = base.filter(product__sku=inputs.sku(sku))
    if statuses:
        base = base.filter(status__in=list(statuses))
    return await id_page(base, first, after)
