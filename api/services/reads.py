"""Reads: what queries may see, paged by opaque cursors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any, Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from api.domain import validation
from api.domain.availability import availability
from api.domain.errors import InvalidInput
from api.domain.identity import Actor
from api.domain.model import Availability, NotificationStatus, Status
from api.domain.restocks import OPEN_RESTOCK_STATUSES
from api.services import inputs
from api.store import prepared
from api.store.models import BackOrder, Notification, Order, Product, Restock
from api.store.prepared import PreparedRead

T = TypeVar("T", bound=Model)


@dataclass
class Page(Generic[T]):
    items: list[T]
    keys: list[object]
    """The items' keys in the sort order; a cursor is a key encoded (``encode_cursor``),
    made only when a client asks for it."""
    has_next: bool
    has_previous: bool
    count: Callable[[], Awaitable[int]]
    """Counts every item the filter matches, on every page (run only when asked for)."""
    orders: dict[int, Order] = field(default_factory=dict)
    """The items' orders, when the read was asked to join them."""


class BackOrderSort(StrEnum):
    PLACED = "PLACED"
    QUEUE = "QUEUE"


def encode_cursor(value: int | str) -> str:
    return base64.urlsafe_b64encode(f"k:{value}".encode()).decode()


def decode_cursor(cursor: str, field: str = "after") -> str:
    try:
        text = base64.urlsafe_b64decode(inputs.cursor(cursor, field).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(field, "not a cursor from this API") from None
    if not text.startswith("k:") or validation.UNPRINTABLE.search(text):
        raise InvalidInput(field, "not a cursor from this API")
    return text[2:]


def page_size(first: int | None, maximum: int) -> int:
    if first is None:
        return min(20, maximum)
    if first < 0 or first > maximum:
        raise InvalidInput("first", f"must be between 0 and {maximum}")
    return first


def product_availability(product: Product, today: date) -> Availability:
    return availability(product.stock, product.policy, product.discontinued, today)


PRODUCT_BY_SKU = PreparedRead(Product, 'WHERE "sku" = {} LIMIT 1')


async def get_product(sku: str) -> Product | None:
    return await PRODUCT_BY_SKU.first(inputs.sku(sku))


async def list_products(
    first: int, after: str | None, wanted: Sequence[Availability] | None, today: date
) -> Page[Product]:
    query = Product.all().order_by("sku")
    if after is not None:
        query = query.filter(sku__gt=inputs.sku(decode_cursor(after), "after"))
    if not wanted:
        rows = await query.limit(first + 1)
        return _page(rows, first, lambda p: p.sku, after is not None, Product.all())
    # Availability is computed, so scan in batches until the page is full.
    found: list[Product] = []
    batch = max(first * 2, 50)
    offset = 0
    while len(found) <= first:
        rows = await query.offset(offset).limit(batch)
        found += [p for p in rows if product_availability(p, today) in wanted]
        if len(rows) < batch:
            break
        offset += batch

    async def count() -> int:
        return sum(
            1 for p in await Product.all() if product_availability(p, today) in wanted
        )

    return _page(found, first, lambda p: p.sku, after is not None, count)


async def get_back_order(actor: Actor | None, back_order_id: int) -> BackOrder | None:
    back_order = await BackOrder.filter(id=back_order_id).first()
    if back_order is None or actor is None or not actor.may_see(back_order.customer_id):
        return None
    return back_order


async def list_back_orders(
    actor: Actor,
    first: int,
    after: str | None,
    sku: str | None = None,
    statuses: Sequence[Status] | None = None,
    customer_id: str | None = None,
    sort: BackOrderSort = BackOrderSort.PLACED,
    *,
    with_orders: bool = False,
    light: bool = False,
    fields: tuple[frozenset[str] | None, frozenset[str] | None] | None = None,
) -> Page[BackOrder]:
    """A page of back orders; ``with_orders`` reads their orders in the same statement
    (``Page.orders``); ``light`` gives read-only rows (``prepared.light_class``), and
    ``fields`` (the back orders' and the orders' fields a response reads) light rows of
    those fields only, with the ones the page itself needs (ids, cursor keys)."""
    where: list[str] = []
    params: list[object] = []
    sku = None if sku is None else inputs.sku(sku)
    customer_id = None if customer_id is None else inputs.customer_id(customer_id)
    if not actor.is_staff:
        if customer_id not in (None, actor.subject):  # another customer's: nothing to see
            return Page([], [], False, after is not None, _no_items)
        customer_id = actor.subject
    if customer_id is not None:
        where.append('b."customer_id" = {}')
        params.append(customer_id)
    if sku is not None:
        where.append('b."product_id" IN (SELECT "id" FROM "product" WHERE "sku" = {})')
        params.append(sku)
    if statuses:
        where.append(f'b."status" IN ({", ".join("{}" for _ in statuses)})')
        params.extend(Status(s).value for s in statuses)
    if sort is BackOrderSort.QUEUE:
        where.append('b."queue_position" IS NOT NULL')
    matching, matching_params = " AND ".join(where), list(params)  # for totalCount
    key: Callable[[BackOrder], object]
    if sort is BackOrderSort.QUEUE:
        if after is not None:
            product_id, _, position = decode_cursor(after).partition(":")
            where.append('(b."product_id" > {} OR (b."product_id" = {}'
                         ' AND b."queue_position" > {}))')
            params.extend([_int(product_id), _int(product_id), _int(position)])
        order = 'b."product_id", b."queue_position"'
        key = _queue_key
    else:
        if after is not None:
            where.append('b."id" > {}')
            params.append(_int(decode_cursor(after)))
        order = 'b."id"'
        key = _id_key
    rows, orders = await _select_back_orders(where, order, first + 1, params, with_orders,
                                             light, fields)

    async def count() -> int:
        db = BackOrder._meta.db
        clause = f"WHERE {matching}" if matching else ""
        _, found = await db.execute_query(prepared.markers(
            db.capabilities.dialect, f'SELECT COUNT(*) FROM "back_order" b {clause}'),
            matching_params)
        return int(found[0][0])

    page = _page(rows, first, key, after is not None, count)
    page.orders = orders
    return page


async def _no_items() -> int:
    return 0


def _queue_key(row: BackOrder) -> str:
    return f"{row.product_id}:{row.queue_position}"


def _id_key(row: BackOrder) -> int:
    return row.id


PAGE_NEEDS = ("id", "product_id", "order_id", "customer_id", "queue_position")
"""What a page reads of its back orders itself: cursors, and the products and orders it
puts aside (``prefetch_for``)."""


async def _select_back_orders(where: list[str], order: str, limit: int, params: list[object],
                              with_orders: bool, light: bool,
                              fields: tuple[frozenset[str] | None, frozenset[str] | None]
                              | None = None) -> tuple[list[BackOrder], dict[int, Order]]:
    db = BackOrder._meta.db
    dialect = db.capabilities.dialect
    names: tuple[tuple[str, ...] | None, tuple[str, ...] | None] = (None, None)
    if light and fields is not None and dialect == "postgres":
        names = (prepared.some_fields(BackOrder, fields[0], PAGE_NEEDS),
                 prepared.some_fields(Order, fields[1], ("id",)))
    sql = _back_order_sql(dialect, " AND ".join(where), order, with_orders, *names)
    _, rows = await db.execute_query(sql, [*params, limit])
    make = prepared.row_maker(BackOrder, dialect, light, names[0])
    back_orders = [make(row, 0) for row in rows]
    orders: dict[int, Order] = {}
    if with_orders:
        make_order = prepared.row_maker(Order, dialect, light, names[1])
        at = len(prepared.columns(BackOrder, names[0]))
        for row in rows:
            found = make_order(row, at)
            orders[found.id] = found
    return back_orders, orders


@lru_cache(maxsize=256)
def _back_order_sql(dialect: str, where: str, order: str, with_orders: bool,
                    names: tuple[str, ...] | None = None,
                    order_names: tuple[str, ...] | None = None) -> str:
    select = prepared.select_list(BackOrder, "b", names)
    join = ""
    if with_orders:
        select += ", " + prepared.select_list(Order, "o", order_names)
        join = ' JOIN "customer_order" o ON o."id" = b."order_id"'
    clause = f"WHERE {where} " if where else ""
    return prepared.markers(
        dialect, f'SELECT {select} FROM "back_order" b{join} {clause}ORDER BY {order} LIMIT {{}}')


async def get_order(actor: Actor | None, order_id: int) -> Order | None:
    order = await Order.filter(id=order_id).first()
    if order is None or actor is None or not actor.may_see(order.customer_id):
        return None
    return order


async def list_orders(customer_id: str, first: int, after: str | None) -> Page[Order]:
    return await id_page(Order.filter(customer_id=customer_id), first, after)


async def id_page(base: Any, first: int, after: str | None, *,
                  newest_first: bool = True) -> Page[Any]:
    """A page of ``base`` (a query set) in id order, newest first unless asked, its cursor
    the row's id; ``totalCount`` counts ``base``."""
    query = base.order_by("-id" if newest_first else "id")
    if after is not None:
        key = _int(decode_cursor(after))
        query = query.filter(id__lt=key) if newest_first else query.filter(id__gt=key)
    rows = await query.limit(first + 1)
    return _page(rows, first, _row_id, after is not None, base)


def _row_id(row: Any) -> int:
    return row.id  # type: ignore[no-any-return]


async def list_notifications(
    first: int, after: str | None, statuses: Sequence[NotificationStatus] | None
) -> Page[Notification]:
    base = Notification.all()
    if statuses:
        base = base.filter(status__in=list(statuses))
    return await id_page(base, first, after)


async def list_restocks(sku: str, include_closed: bool) -> list[Restock]:
    query = Restock.filter(product__sku=inputs.sku(sku))
    if not include_closed:
        query = query.filter(status__in=OPEN_RESTOCK_STATUSES)
    return await query.order_by("expected_date", "id")


def _page(
    rows: list[T],
    first: int,
    key: object,
    had_cursor: bool,
    count: QuerySet[T] | Callable[[], Awaitable[int]],
) -> Page[T]:
    items = rows[:first]
    keys = [key(row) for row in items]  # type: ignore[operator]
    counter = count.count if isinstance(count, QuerySet) else count
    return Page(items, keys, len(rows) > first, had_cursor, counter)


def _int(value: str) -> int:
    return validation.row_id(value, "after")
