"""Collects what a use case changed in back orders: history, versions and outbox events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.connection import get_connection

from api import metrics
from api.notifications import outbox as notification_outbox
from api.store.models import BackOrder, BackOrderEvent, OutboxEvent, Product
from api.store.snapshots import snapshot

BACK_ORDER_TOPIC = "back_order"
PRODUCT_TOPIC = "product"


class Changes:
    """One use case's changes; ``flush`` writes them inside its transaction."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._dirty: dict[int, BackOrder] = {}
        self._fields: set[str] = set()
        self._events: list[tuple[BackOrder, str, dict[str, Any]]] = []
        self._products: dict[int, Product] = {}
        self._new: set[int] = set()
        self._staff: list[tuple[str, dict[str, Any]]] = []

    def staff_alert(self, event: str, **data: Any) -> None:
        """A message for the logistics staff, sent with this change."""
        self._staff.append((event, _jsonable(data)))

    def placed(self, back_order: BackOrder) -> None:
        """A back order created by this use case: version 1, history starts with PLACED."""
        self._new.add(back_order.id)
        self._events.append((back_order, "PLACED", {}))

    def is_new(self, back_order: BackOrder) -> bool:
        return back_order.id in self._new

    def touch(self, back_order: BackOrder, *fields: str) -> None:
        self._dirty[back_order.id] = back_order
        self._fields.update(fields)

    def record(self, back_order: BackOrder, kind: str, **detail: Any) -> None:
        """Add a line to the back order's history (the row itself is saved at flush)."""
        self._events.append((back_order, kind, detail))
        self._dirty[back_order.id] = back_order

    def product_changed(self, product: Product) -> None:
        self._products[product.id] = product

    async def flush(self) -> None:
        for back_order in self._dirty.values():
            if back_order.id not in self._new:
                back_order.version += 1
        if self._dirty:
            fields = sorted(self._fields | {"version", "updated_at"})
            await _update_rows(list(self._dirty.values()), fields)
        if self._events:
            await BackOrderEvent.bulk_create(
                [
                    BackOrderEvent(
                        back_order_id=back_order.id,
                        kind=kind,
                        status=back_order.status,
                        version=back_order.version,
                        at=self.now,
                        detail=_jsonable(detail or _placed_detail(back_order)),
                    )
                    for back_order, kind, detail in self._events
                ],
                batch_size=500,
            )
        for product in self._products.values():
            product.version += 1
            await product.save()
        await OutboxEvent.bulk_create(self._outbox(), batch_size=500)
        await notification_outbox.write(self._events, self._staff, self.now)
        allocated = sum(int(d.get("units", 0)) for _, kind, d in self._events
                        if kind in ("ALLOCATED", "PARTIALLY_ALLOCATED"))
        if allocated:
            metrics.ALLOCATIONS.inc(allocated)

    def _outbox(self) -> list[OutboxEvent]:
        touched = {bo.id: bo for bo, _, _ in self._events} | self._dirty
        rows = [
            OutboxEvent(topic=BACK_ORDER_TOPIC, key=str(bo.id), payload=snapshot(bo))
            for bo in touched.values()
        ]
        rows += [
            OutboxEvent(topic=PRODUCT_TOPIC, key=p.sku, payload=snapshot(p))
            for p in self._products.values()
        ]
        return rows


async def _update_rows(rows: list[BackOrder], fields: list[str]) -> None:
    """One prepared UPDATE executed for every row: Tortoise's bulk_update builds a CASE per
    column per row, which costs more than the database work for long queues."""
    connection = get_connection("default")
    executor = connection.executor_class(model=BackOrder, db=connection)
    sql = executor.get_update_sql(fields, {})
    columns = [BackOrder._meta.fields_map[name] for name in fields]
    pk = BackOrder._meta.pk
    await connection.execute_many(sql, [
        [column.to_db_value(getattr(row, column.model_field_name), row) for column in columns]
        + [pk.to_db_value(row.pk, row)]
        for row in rows
    ])


def _placed_detail(bo: BackOrder) -> dict[str, Any]:
    return {
        "quantity": bo.quantity,
        "queue_position": bo.queue_position,
        "estimated_ship_date": bo.estimated_ship_date,
    }


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
