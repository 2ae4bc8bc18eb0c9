"""New back orders join the tail of the queue without a resync, and still tell the truth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from api.domain.identity import Actor, Role
from api.services import backorders, catalog, ordering, queue, restocks
from api.store.models import BackOrder

STAFF = Actor("staff-1", Role.STAFF)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


async def _order(customer: str, quantity: int = 1, at: datetime = NOW) -> BackOrder:
    placed = await ordering.place_order(
        Actor(customer, Role.CUSTOMER), [ordering.LineRequest("KB", quantity)],
        f"{customer}-key", "USD", now=at)
    return await BackOrder.get(order_id=placed.order.id)


async def _queue() -> list[tuple[str, int | None, int, date]]:
    rows = await BackOrder.filter(product__sku="KB").order_by("queue_position")
    return [(bo.customer_id, bo.queue_position, bo.units_ahead, bo.estimated_ship_date)
            for bo in rows if bo.queue_position is not None]


async def test_orders_placed_at_the_same_instant_queue_by_id(db: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    for customer in ("a", "b", "c"):
        await _order(customer, 2)
    await _order("d", 1, NOW + timedelta(seconds=1))
    assert [(c, p, u) for c, p, u, _ in await _queue()] == [
        ("a", 1, 0), ("b", 2, 2), ("c", 3, 4), ("d", 4, 6)]


async def test_a_cancellation_between_orders_moves_the_next_one_up(db: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    first = await _order("a", 2, NOW)
    await _order("b", 3, NOW + timedelta(seconds=1))
    await backorders.cancel_back_order(STAFF, first.id, now=NOW + timedelta(seconds=2))
    last = await _order("c", 1, NOW + timedelta(seconds=3))
    assert (last.queue_position, last.units_ahead) == (2, 3)


async def test_a_restock_scheduled_between_orders_dates_the_next_one(db: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    first = await _order("a", 1, NOW)
    assert first.estimated_ship_date == NOW.date() + timedelta(days=14)
    await restocks.schedule_restock(STAFF, "KB", 5, NOW.date() + timedelta(days=3), now=NOW)
    second = await _order("b", 1, NOW + timedelta(seconds=1))
    assert second.estimated_ship_date == NOW.date() + timedelta(days=4)
    assert second.estimate_scheduled


async def test_an_order_another_process_placed_is_not_missed(db: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    await _order("a", 2, NOW)
    left_by_this_process = dict(queue._KNOWN_TAILS)
    await _order("b", 3, NOW + timedelta(seconds=1))
    queue._KNOWN_TAILS.clear()
    queue._KNOWN_TAILS.update(left_by_this_process)  # as if "b" came through another one
    last = await _order("c", 1, NOW + timedelta(seconds=2))
    assert (last.queue_position, last.units_ahead) == (3, 5)


async def test_dates_never_decrease_along_the_queue(db: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    await restocks.schedule_restock(STAFF, "KB", 2, NOW.date() + timedelta(days=2), now=NOW)
    await restocks.schedule_restock(STAFF, "KB", 3, NOW.date() + timedelta(days=9), now=NOW)
    for n, customer in enumerate("abcdefg"):
        await _order(customer, 1, NOW + timedelta(seconds=n))
    found = await _queue()
    assert [p for _, p, _, _ in found] == list(range(1, 8))
    dates = [d for _, _, _, d in found]
    assert dates == sorted(dates)
    assert dates[0] == NOW.date() + timedelta(days=3)
    assert dates[-1] == NOW.date() + timedelta(days=14)
