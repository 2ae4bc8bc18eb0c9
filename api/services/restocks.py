"""Inbound supply: schedule, reschedule, receive and cancel restocks."""

from __future__ import annotations

from datetime import date, datetime

from tortoise.transactions import in_transaction

from api.domain import restocks as rules
from api.domain import validation
from api.domain.errors import InvalidInput, NotFound
from api.domain.identity import Actor, require_staff
from api.services import inputs
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_product, lock_product_by_sku
from api.services.queue import resync_queue
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
    sku = inputs.sku(sku)
    validation.positive(quantity, "quantity")
    note = validation.text(note, "note", inputs.NOTE, required=False)
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
        product, restock = await _lock(restock_id)
        _apply(restock, rules.reschedule(restock.state, quantity))
        if expected_date is not None:
            restock.expected_date = expected_date
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
        product, restock = await _lock(restock_id)
        before = restock.received
        _apply(restock, rules.receive(restock.state, quantity))
        units = restock.received - before
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
        product, restock = await _lock(restock_id)
        _apply(restock, rules.cancel(restock.state))
        await restock.save()
        await resync_queue(product, changes)
        await changes.flush()
    return restock


async def _lock(restock_id: int) -> tuple[Product, Restock]:
    """Lock a restock's product, then the restock."""
    found = await Restock.filter(id=restock_id).first()
    if found is None:
        raise NotFound("Restock", str(restock_id))
    product = await lock_product(found.product_id)
    restock = await Restock.filter(id=restock_id).select_for_update().first()
    if restock is None:
        raise NotFound("Restock", str(restock_id))
    return product, restock


def _apply(restock: Restock, state: rules.RestockState) -> None:
    restock.status, restock.quantity, restock.received = (
        state.status, state.quantity, state.received)


def _check_date(expected: date, now: datetime) -> None:
    if expected < now.date():
        raise InvalidInput("expectedDate", "must not be in the past")
    if (expected - now.date()).days > 3650:
        raise InvalidInput("expectedDate", "must be within ten years")
