"""Offering holds to a product's waitlisters (``api/domain/holds.py``), called by the queue's
resync under the product's lock once the back orders have every unit they can take.

The hold policy (how long a hold lasts, when its holder is reminded) is the shop's setting:
``configure`` sets it for the process at start (the API and the worker)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.domain.holds import HoldPolicy, Waiter, offer_holds
from api.domain.model import WaitlistStatus
from api.services.changes import Changes
from api.store.models import Product, WaitlistEntry

_POLICY = [HoldPolicy()]
OFFER_BATCH = 1000
"""Waitlisters read at once while free units are left."""


def configure(policy: HoldPolicy) -> None:
    _POLICY[0] = policy


def policy() -> HoldPolicy:
    return _POLICY[0]


async def offer_free_units(product: Product, changes: Changes) -> None:
    """Hold the product's free units for its waitlisters, in join order (call with the lock,
    when no back order waits for them)."""
    if product.discontinued:  # (a hold becomes an order: a discontinued product takes none)
        return
    after = 0
    while (free := product.stock.available) > 0:
        entries = await WaitlistEntry.filter(
            product_id=product.id, status=WaitlistStatus.WAITING, id__gt=after,
        ).order_by("id").limit(min(free, OFFER_BATCH))
        if not entries:
            return
        by_id = {entry.id: entry for entry in entries}
        for hold in offer_holds(free, [Waiter(e.id, e.quantity) for e in entries]):
            _hold(by_id[hold.entry_id], hold.units, product, changes)
        after = entries[-1].id


def _hold(entry: WaitlistEntry, units: int, product: Product, changes: Changes) -> None:
    entry.status = WaitlistStatus.HOLDING
    entry.held = units
    entry.held_price = product.price
    entry.hold_offered_at = changes.now
    entry.hold_expires_at = policy().expires_at(changes.now)
    entry.reminded_at = None
    product.held += units
    changes.waitlist_changed(entry)
    changes.notify(entry.customer_id, "HOLD_OFFERED", notice_data(entry, product))
    changes.product_changed(product)


def notice_data(entry: WaitlistEntry, product: Product,
                expired_at: datetime | None = None) -> dict[str, Any]:
    """What the hold templates may use; plain JSON values only."""
    expires = entry.hold_expires_at
    return {
        "waitlist_entry_id": entry.id,
        "customer_id": entry.customer_id,
        "sku": product.sku,
        "product_name": product.name,
        "wanted": entry.quantity,
        "held": entry.held,
        "held_price": str(entry.held_price if entry.held_price is not None else product.price),
        "hold_expires_at": _when(expires) if expires else "",
        "expired_at": _when(expired_at) if expired_at else "",
    }


def _when(moment: datetime) -> str:
    """A time as a person reads it: ``2026-12-04 14:30 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")
