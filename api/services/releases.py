"""Releasing a pre-order: at its release date by the sweeper, or early by staff; and its
early birds (rules in ``api/domain/preorders.py``).

The release itself is done by the queue's resync (``api/services/queue.py``), under the
product's lock, on the first resync on or after the release date: it sets
``product.released_at`` once, so two sweepers, a sweeper and an order, or a sweep again
after a crash, release a product exactly once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from tortoise.transactions import in_transaction

from api.domain.errors import InvalidTransition
from api.domain.identity import Actor, require_staff
from api.domain.model import OPEN_STATUSES
from api.domain.preorders import early_birds_to_mark, release_due
from api.services import inputs
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_product, lock_product_by_sku
from api.services.queue import resync_queue
from api.store.models import BackOrder, Product

log = logging.getLogger("backorders.releases")

PLACEMENT_ORDER = ("placed_at", "id")
"""Early birds are the first pre-orders placed (a staff priority moves a pre-order up the
line, not into the early birds)."""
SWEEP_BATCH = 100
"""Products one sweep releases at most; the next sweep takes the rest."""


async def release_product(actor: Actor | None, sku: str, now: datetime | None = None
                          ) -> Product:
    """Staff release a pre-order now, before its release date."""
    require_staff(actor)
    sku = inputs.sku(sku)
    changes = Changes(now or utcnow())
    today = changes.now.date()
    async with in_transaction():
        product = await lock_product_by_sku(sku)
        if product.released_at is not None:
            raise InvalidTransition("product", "RELEASED", "RELEASED")
        if not product.policy.is_preorder(today) and not release_due(
                product.release_date, product.released_at, today):
            raise InvalidTransition("product", "NOT_A_PRE_ORDER", "RELEASED")
        product.release_date = min(product.release_date or today, today)
        await resync_queue(product, changes)
        await changes.flush()
    return product


async def release_due_products(now: datetime | None = None) -> int:
    """The sweep: release the products whose release date has come, each in its own
    transaction under its lock (the rule checked again there). Returns how many."""
    now = now or utcnow()
    ids = await Product.filter(release_date__lte=now.date(), released_at=None).order_by(
        "id").limit(SWEEP_BATCH).values_list("id", flat=True)
    released = 0
    for product_id in ids:
        try:
            released += await _release_one(int(product_id), now)  # type: ignore[call-overload]
        except Exception:
            log.exception("release of product %s failed; the next sweep tries again",
                          product_id)
    return released


async def _release_one(product_id: int, now: datetime) -> int:
    changes = Changes(now)
    async with in_transaction():
        product = await lock_product(product_id)
        if not release_due(product.release_date, product.released_at, now.date()):
            return 0  # another instance (or an order) released it first
        await resync_queue(product, changes)
        await changes.flush()
    log.info("released %s", product.sku)
    return 1


async def mark_early_birds(product: Product, changes: Changes) -> None:
    """Give the marks that are free (a cancelled early bird's, a larger size) to the next
    pre-orders without one, in the order they were placed. Call with the product locked."""
    size = product.early_bird_size
    if size is None:
        return
    marked = await BackOrder.filter(product_id=product.id, early_bird=True).count()
    wanted = early_birds_to_mark(size, marked, size)
    if wanted == 0:
        return
    # This change's own copies win: one it cancelled is still open in the database.
    dirty = changes.dirty_ids()
    rows = [changes.held(row) for row in await BackOrder.filter(
        product_id=product.id, pre_order=True, early_bird=False,
        status__in=list(OPEN_STATUSES)).order_by(*PLACEMENT_ORDER).limit(
            wanted + len(dirty)).select_for_update()]
    for back_order in [row for row in rows if row.status in OPEN_STATUSES][:wanted]:
        back_order.early_bird = True
        changes.touch(back_order, "early_bird")
        changes.record(back_order, "EARLY_BIRD", bonus=product.early_bird_bonus)
