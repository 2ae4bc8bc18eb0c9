from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from api.domain.identity import Actor, Role
from api.domain.model import Status
from api.services import backorders, catalog, ordering, restocks
from api.store.models import BackOrder, Product

STAFF = Actor("staff-1", Role.STAFF)
ALICE = Actor("alice", Role.CUSTOMER)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


async def test_walkthrough(db: str) -> None:
    await catalog.create_product(STAFF, "MUG-1", "Mug", Decimal("12.50"), on_hand=2)
    placed = await ordering.place_order(
        ALICE, [ordering.LineRequest("MUG-1", 5)], "k1", "USD", now=NOW
    )
    assert not placed.replayed
    bo = await BackOrder.get(order_id=placed.order.id)
    assert (bo.quantity, bo.queue_position, bo.status) == (3, 1, Status.WAITING)
    assert bo.estimated_ship_date == NOW.date() + timedelta(days=14)
    restock = await restocks.schedule_restock(STAFF, "MUG-1", 10, date(2026, 12, 1), now=NOW)
    await bo.refresh_from_db()
    assert bo.estimated_ship_date == date(2026, 12, 2)
    await restocks.receive_restock(STAFF, restock.id, 2, now=NOW)
    await bo.refresh_from_db()
    assert (bo.allocated, bo.status) == (2, Status.PARTIALLY_ALLOCATED)
    await restocks.receive_restock(STAFF, restock.id, now=NOW)
    await bo.refresh_from_db()
    assert bo.status is Status.ALLOCATED
    product = await Product.get(sku="MUG-1")
    assert (product.on_hand, product.allocated, product.waiting) == (12, 5, 0)
    await backorders.ship_back_order(STAFF, bo.id, "TRACK", now=NOW)
    product = await Product.get(sku="MUG-1")
    assert (product.on_hand, product.allocated) == (9, 2)
