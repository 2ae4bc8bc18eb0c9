"""Inbound supply: schedule, reschedule, receive and cancel restocks."""

from __future__ import annotations

from datetime import date, datetime

from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.errors import InvalidInput, InvalidTransition, NotFound
from api.domain.identity import Actor, require_staff
from api.domain.model import RestockStatus
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_product, lock_product_by_sku
from api.services.queue import OPEN_RESTOCK, resync_queue
from api.store.models import Product, Restock


async def schedule_restock(
    actor: Actor | None,
    sku: str,
    quantity: int,
    expected_date: date,
    note: str = "",
    now: datetime | None = None,
) -> Restock:
    require_staff(actor)
    validation.positive(quantity, "quantity")
    note = validation.text(note, "note", 200, required=False)
    changes = Changes(now or utcnow())
    _check_date(expected_date, changes.now)
    async with in_transaction():
        product = await lock_product_by_sku(sku)
        restock = await Restock.create(
            product=product, quantity=quantity, expected_date=expected_date, note=note
        )
        await resync_queue(product, changes)
        await changes.flush()
    return restock


async def reschedule_restock(
    actor: Actor | None,
    restock_id: int,
    expected_date: date | None = None,
    quantity: int | None = None,
    now: datetime | None = None,
) -> Restock:
    require_staff(actor)
    changes = Changes(now or utcnow())
    if expected_date is None and quantity is None:
        raise InvalidInput("expectedDate", "give a new expected date, a new quantity or both")
    if expected_date is not None:
        _check_date(expected_date, changes.now)
    async with in_transaction():
        product, restock = await _lock_open(restock_id, "RESCHEDULED")
        if quantity is not None:
            validation.positive(quantity, "quantity")
            if quantity < restock.received:
                raise InvalidInput("quantity", f"{restock.received} were received already")
            restock.quantity = quantity
        if expected_date is not None:
            restock.expected_date = expected_date
        if restock.received >= restock.quantity:
            restock.status = RestockStatus.RECEIVED
        await restock.save()
        await resync_queue(product, changes)
        await changes.flush()
    return restock


async def receive_restock(
    actor: Actor | None,
    restock_id: int,
    quantity: int | None = None,
    now: datetime | None = None,
) -> Restock:
    """Count a delivery in, in full (default) or in part; the units go to the queue first."""
    require_staff(actor)
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, restock = await _lock_open(restock_id, RestockStatus.RECEIVED.value)
        units = restock.outstanding if quantity is None else quantity
        validation.positive(units, "quantity")
        restock.received += units
        restock.quantity = max(restock.quantity, restock.received)  # an over-delivery counts
        restock.status = (
            RestockStatus.RECEIVED
            if restock.received >= restock.quantity
            else RestockStatus.PARTIALLY_RECEIVED
        )
        await restock.save()
        product.on_hand += units
        await resync_queue(product, changes)
        await changes.flush()
    return restock


async def cancel_restock(
    actor: Actor | None, restock_id: int, now: datetime | None = None
) -> Restock:
    require_staff(actor)
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, restock = await _lock_open(restock_id, RestockStatus.CANCELLED.value)
        restock.status = RestockStatus.CANCELLED
        await restock.save()
        await resync_queue(product, changes)
        await changes.flush()
    return restock


async def _lock_open(restock_id: int, action: str) -> tuple[Product, Restock]:
    """Lock a restock's product, then the restock; refuse one that is closed."""
    found = await Restock.filter(id=restock_id).first()
    if found is None:
        raise NotFound("Restock", str(restock_id))
    product = await lock_product(found.product_id)
    restock = await Restock.filter(id=restock_id).select_for_update().first()
    if restock is None:
        raise NotFound("Restock", str(restock_id))
    if restock.status not in OPEN_RESTOCK:
        raise InvalidTransition("restock", restock.status.value, action)
    return product, restock


def _check_date(expected: date, now: datetime) -> None:
    if expected < now.date():
        raise InvalidInput("expectedDate", "must not be in the past")
    if (expected - now.date()).days > 3650:
        raise InvalidInput("expectedDate", "must be within ten years")
