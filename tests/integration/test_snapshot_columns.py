"""A live event carries every column of its table that is not unbounded, and a subscriber
rebuilds from it the very values a read of the row gets (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from tortoise.models import Model

from api.domain.model import Status
from api.realtime.bus import EventBus
from api.realtime.events import Event
from api.realtime.hub import Hub
from api.realtime.relay import OutboxRelay
from api.store import statements
from api.store.database import is_postgres
from api.store.models import BackOrder, Order, OrderLine, OutboxEvent, Product
from api.store.snapshots import (
    BACK_ORDER_FIELDS,
    PRODUCT_FIELDS,
    back_order_from,
    bounded,
    product_from,
    snapshot,
)

SNAPSHOTS = {BackOrder: BACK_ORDER_FIELDS, Product: PRODUCT_FIELDS}
AT = datetime(2026, 3, 4, 5, 6, 7, 890_123, tzinfo=UTC)


async def _table_columns(db: str, table: str) -> set[str]:
    if is_postgres(db):
        rows = await statements.fetch("SELECT column_name AS name FROM information_schema"
                                      ".columns WHERE table_name = $1", [table])
    else:
        rows = await statements.fetch(f"SELECT name FROM pragma_table_info('{table}')")
    return {row["name"] for row in rows}


@pytest.mark.parametrize("model", [BackOrder, Product])
async def test_every_column_that_is_not_unbounded_is_in_the_snapshot(
        db: str, model: type[Model]) -> None:
    fields = model._meta.fields_map
    in_snapshot = {fields[name].source_field or name for name in SNAPSHOTS[model]}
    left_out = {column for name, column in model._meta.fields_db_projection.items()
                if not bounded(fields[name])}
    table = await _table_columns(db, model._meta.db_table)
    assert table - left_out == in_snapshot, "a column is missing from live events"


async def _rows() -> tuple[BackOrder, Product]:
    """A back order and its product with every column off its default."""
    product = await Product.create(
        sku="SNAP-Ü1", name='Ünïcode "name" \\ \x01', digital=True, price=Decimal("12.30"),
        discontinued=True, on_hand=3, allocated=2, waiting=5, allow_backorders=False,
        backorder_cap=40, lead_time_days=9, handling_days=3, release_date=date(2026, 5, 6),
        delay_grace_days=4, low_stock_threshold=7, version=6)
    order = await Order.create(customer_id="alice", idempotency_key="snap", request_hash="h",
                               currency="EUR", amount_charged=Decimal("24.60"), placed_at=AT)
    line = await OrderLine.create(order=order, product=product, quantity=2,
                                  unit_price=Decimal("12.30"), amount_charged=Decimal("24.60"),
                                  allocated_now=0, backordered=2)
    back_order = await BackOrder.create(
        order=order, line=line, product=product, customer_id="alice", quantity=2, allocated=1,
        status=Status.PARTIALLY_ALLOCATED, priority=2, placed_at=AT,
        unit_price=Decimal("12.30"), queue_position=4, units_ahead=11,
        estimated_ship_date=date(2026, 6, 7), estimate_scheduled=True,
        promised_date=date(2026, 6, 1), delayed=True, refunded_amount=Decimal("1.5"),
        tracking_code="TRK-1", version=3, allocated_at=AT, closed_at=AT)
    return back_order, product


async def test_a_subscriber_rebuilds_the_row_a_read_gets(db: str) -> None:
    back_order, product = await _rows()
    read_back_order = await BackOrder.get(id=back_order.id)
    read_product = await Product.get(id=product.id)
    await statements.insert_values(OutboxEvent, ("topic", "key", "payload"), [
        ("back_order", str(back_order.id), snapshot(read_back_order)),
        ("product", product.sku, snapshot(read_product)),
    ])
    hub = Hub()
    bus = EventBus("memory://", hub)
    await bus.start()
    try:
        keys = [f"bo:{back_order.id}", f"product:{product.sku}"]
        with hub.subscribe(keys) as subscription:
            assert await OutboxRelay(bus, postgres=is_postgres(db)).drain() == 2
            received = [await subscription.get() for _ in range(2)]
    finally:
        await bus.stop()
    events = {event.topic: event for event in received if isinstance(event, Event)}
    _same(read_back_order, back_order_from(events["back_order"].payload))
    _same(read_product, product_from(events["product"].payload))


def _same(read: Model, rendered: Model) -> None:
    fields = type(read)._meta.fields_map
    columns = [name for name in type(read)._meta.fields_db_projection if bounded(fields[name])]
    values: dict[str, tuple[Any, Any]] = {
        name: (getattr(read, name), getattr(rendered, name)) for name in columns}
    assert {name: pair for name, pair in values.items() if pair[0] != pair[1]} == {}
    assert {name: type(pair[1]) for name, pair in values.items()} == {
        name: type(pair[0]) for name, pair in values.items()}
