"""Rows as small JSON snapshots (for outbox events) and back.

A snapshot holds only bounded fields (ids, numbers, dates, enum values and short codes), so
a back order or product event stays well under PostgreSQL's 8,000-byte NOTIFY payload.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from api.domain.model import Status
from api.store.models import BackOrder, Product

BACK_ORDER_FIELDS = (
    "id", "order_id", "line_id", "product_id", "customer_id", "quantity", "allocated",
    "status", "priority", "placed_at", "unit_price", "queue_position", "units_ahead",
    "estimated_ship_date", "estimate_scheduled", "promised_date", "delayed",
    "refunded_amount", "tracking_code", "version",
)
PRODUCT_FIELDS = (
    "id", "sku", "name", "digital", "price", "discontinued", "on_hand", "allocated",
    "waiting", "allow_backorders", "backorder_cap", "lead_time_days", "handling_days",
    "release_date", "delay_grace_days", "low_stock_threshold", "version",
)
_DATES = {"estimated_ship_date", "promised_date", "release_date"}
_DATETIMES = {"placed_at"}
_MONEY = {"unit_price", "refunded_amount", "price"}


def snapshot(row: BackOrder | Product) -> dict[str, Any]:
    names = BACK_ORDER_FIELDS if isinstance(row, BackOrder) else PRODUCT_FIELDS
    plain = _PLAIN_TYPES
    return {name: value if type(value := getattr(row, name)) in plain else _plain(value)
            for name in names}


def back_order_from(data: dict[str, Any]) -> BackOrder:
    """An unsaved row with the snapshot's values, for rendering."""
    values = _typed(data, BACK_ORDER_FIELDS)
    values["status"] = Status(values["status"])
    return BackOrder(**values)


def product_from(data: dict[str, Any]) -> Product:
    return Product(**_typed(data, PRODUCT_FIELDS))


_PLAIN_TYPES = frozenset({int, str, bool, float, type(None)})
"""Types a snapshot holds as they are (checked first: most fields are of these)."""


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Status):
        return value.value
    return value


def _typed(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        value = data.get(name)
        if value is not None and name in _DATES:
            value = date.fromisoformat(value)
        elif value is not None and name in _DATETIMES:
            value = datetime.fromisoformat(value)
        elif value is not None and name in _MONEY:
            value = Decimal(value)
        values[name] = value
    return values
