"""DataLoaders: one query per kind of thing per request, whatever the page size."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.functions import Max
from tortoise.models import Model

from api.domain.model import QUEUED_STATUSES
from api.domain.money import Paid, cash_ahead_of_stock
from api.domain.restocks import OPEN_RESTOCK_STATUSES
from api.store.models import (
    BackOrder,
    BackOrderEvent,
    Charge,
    Notification,
    NotificationAttempt,
    Order,
    OrderLine,
    Product,
    Restock,
    Shipment,
)
from api.store.prepared import PreparedRead

M = TypeVar("M", bound=Model)


async def _by_id(model: type[M], ids: Sequence[int]) -> list[M | None]:
    rows = {row.pk: row for row in await model.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _grouped(model: type[M], column: str, keys: Sequence[int], *order: str,
                   **filters: object) -> list[list[M]]:
    groups: dict[int, list[M]] = defaultdict(list)
    rows = await model.filter(**{f"{column}__in": list(keys)}, **filters).order_by(*order)
    for row in rows:
        groups[getattr(row, column)].append(row)
    return [groups.get(k, []) for k in keys]


async def load_products(ids: Sequence[int]) -> list[Product | None]:
    return await _by_id(Product, ids)


async def load_orders(ids: Sequence[int]) -> list[Order | None]:
    return await _by_id(Order, ids)


async def load_lines(order_ids: Sequence[int]) -> list[list[OrderLine]]:
    return await _grouped(OrderLine, "order_id", order_ids, "id")


async def load_back_orders(order_ids: Sequence[int]) -> list[list[BackOrder]]:
    return await _grouped(BackOrder, "order_id", order_ids, "id")


async def load_history(back_order_ids: Sequence[int]) -> list[list[BackOrderEvent]]:
    return await _grouped(BackOrderEvent, "back_order_id", back_order_ids, "id")


async def load_shipments(back_order_ids: Sequence[int]) -> list[list[Shipment]]:
    return await _grouped(Shipment, "back_order_id", back_order_ids, "id")


async def load_charges(order_ids: Sequence[int]) -> list[list[Charge]]:
    return await _grouped(Charge, "order_id", order_ids, "id")


async def load_notifications(back_order_ids: Sequence[int]) -> list[list[Notification]]:
    return await _grouped(Notification, "back_order_id", back_order_ids, "id")


async def load_attempts(notification_ids: Sequence[int]) -> list[list[NotificationAttempt]]:
    return await _grouped(NotificationAttempt, "notification_id", notification_ids, "id")


async def load_open_restocks(product_ids: Sequence[int]) -> list[list[Restock]]:
    return await _grouped(Restock, "product_id", product_ids, "expected_date", "id",
                          status__in=list(OPEN_RESTOCK_STATUSES))


async def load_queue_tail_dates(product_ids: Sequence[int]) -> list[date | None]:
    """The date of the last back order in each product's queue (dates never decrease)."""
    rows = await (
        BackOrder.filter(product_id__in=list(product_ids), status__in=list(QUEUED_STATUSES))
        .group_by("product_id")
        .annotate(last=Max("estimated_ship_date"))
        .values("product_id", "last")
    )
    last = {r["product_id"]: _as_date(r["last"]) for r in rows}
    return [last.get(i) for i in product_ids]


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class QueueFigures:
    open_back_orders: int
    cash_ahead_of_stock: Decimal


async def load_queue_figures(product_ids: Sequence[int]) -> list[QueueFigures]:
    """Per product: open back orders, and the cash taken for units not yet in stock."""
    queued = await BackOrder.filter(
        product_id__in=list(product_ids), status__in=list(QUEUED_STATUSES)
    ).values("product_id", "allocated", "unit_price", "paid_amount")
    paid: dict[int, list[Paid]] = defaultdict(list)
    for r in queued:
        paid[r["product_id"]].append(Paid(Decimal(r["unit_price"]), r["allocated"],
                                          Decimal(r["paid_amount"])))
    return [QueueFigures(len(paid.get(i, ())), cash_ahead_of_stock(paid.get(i, ())))
            for i in product_ids]



@dataclass
class Loaders:
    """Fresh per HTTP request (a websocket connection makes its own per operation)."""

    known_products: dict[int, Product] = field(default_factory=dict)
    known_orders: dict[int, Order] = field(default_factory=dict)
    product: DataLoader[int, Product | None] = field(
        default_factory=lambda: DataLoader(load_fn=load_products))
    order: DataLoader[int, Order | None] = field(
        default_factory=lambda: DataLoader(load_fn=load_orders))
    lines: DataLoader[int, list[OrderLine]] = field(
        default_factory=lambda: DataLoader(load_fn=load_lines))
    back_orders: DataLoader[int, list[BackOrder]] = field(
        default_factory=lambda: DataLoader(load_fn=load_back_orders))
    history: DataLoader[int, list[BackOrderEvent]] = field(
        default_factory=lambda: DataLoader(load_fn=load_history))
    shipments: DataLoader[int, list[Shipment]] = field(
        default_factory=lambda: DataLoader(load_fn=load_shipments))
    notifications: DataLoader[int, list[Notification]] = field(
        default_factory=lambda: DataLoader(load_fn=load_notifications))
    charges: DataLoader[int, list[Charge]] = field(
        default_factory=lambda: DataLoader(load_fn=load_charges))
    attempts: DataLoader[int, list[NotificationAttempt]] = field(
        default_factory=lambda: DataLoader(load_fn=load_attempts))
    open_restocks: DataLoader[int, list[Restock]] = field(
        default_factory=lambda: DataLoader(load_fn=load_open_restocks))
    queue_tail_date: DataLoader[int, date | None] = field(
        default_factory=lambda: DataLoader(load_fn=load_queue_tail_dates))
    queue_figures: DataLoader[int, QueueFigures] = field(
        default_factory=lambda: DataLoader(load_fn=load_queue_figures))


_LOADER_FIELDS = {f.name: f for f in dataclasses.fields(Loaders)}


class LazyLoaders(Loaders):
    """Loaders, each made when first used. Subscription events render with fresh loaders of
    their own, so an idle subscriber's connection would otherwise carry ten DataLoaders it
    never touches (about 4 KiB); most HTTP operations touch one or two of them."""

    def __init__(self) -> None:  # nothing yet: see __getattr__
        pass

    def __getattr__(self, name: str) -> Any:
        spec = _LOADER_FIELDS.get(name)
        if spec is None:
            raise AttributeError(name)
        if spec.default_factory is not dataclasses.MISSING:
            value = spec.default_factory()
        elif spec.default is not dataclasses.MISSING:
            value = spec.default
        else:  # pragma: no cover - every field has a default
            raise AttributeError(name)
        setattr(self, name, value)
        return value


async def prefetch_for(loaders: Loaders, back_orders: Sequence[BackOrder],
                       orders: Mapping[int, Order] | None = None) -> None:
    """The products and orders of a page (``orders`` when the page read them already), put
    aside for ``known`` fields (``fields.known``: the row if put aside, else its loader)."""
    if orders:
        loaders.known_orders.update(orders)
    products = {b.product_id for b in back_orders} - loaders.known_products.keys()
    missing = {b.order_id for b in back_orders} - loaders.known_orders.keys()
    if products:
        found = {p.id: p for p in await products_by_id(products)}
        loaders.known_products.update(found)
    if missing:
        found_orders = {o.id: o for o in await Order.filter(id__in=missing)}
        loaders.known_orders.update(found_orders)


async def products_by_id(ids: Iterable[int]) -> list[Product]:
    """Products by id: one statement, written once per dialect and number of ids."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return await _products_by_count(len(wanted)).all(*wanted)


@lru_cache(maxsize=128)
def _products_by_count(count: int) -> PreparedRead[Product]:
    return PreparedRead(Product, f'WHERE "id" IN ({", ".join("{}" for _ in range(count))})')
