"""The demand report (staff): what customers asked for, what waited, how long, what gave up.

Every figure is about the order lines and back orders *placed* in the report's window (or
bucket); the open figures are those of them still waiting for stock when the report is
made. The database does the sums (``api/store/demand.py``); this module checks who asks,
names the products, and lays the rows out in buckets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from api.domain import demand as rules
from api.domain import validation
from api.domain.demand import Bucket, Period, Window
from api.domain.errors import InvalidInput, NotFound
from api.domain.identity import Actor, require_staff
from api.services import inputs
from api.services.clock import utcnow
from api.services.reads import Page, decode_cursor
from api.store import demand as store
from api.store.demand import Figures, Ranked
from api.store.models import Product

MAX_SKUS = 100
EXPORT_BATCH = 200
"""Products per statement of an export."""

EMPTY = Figures(None, None, 0, 0, 0, 0, 0, 0, 0, None, 0,
                {w: (0, None, None, None) for w in store.WAITS}, 0, None)


@dataclass(frozen=True)
class DemandQuery:
    """A checked request for a report."""

    window: Window
    bucket: Bucket
    product_ids: list[int] | None
    """None for every product."""
    now: datetime


async def demand_query(actor: Actor | None, first: date, last: date, bucket: Bucket,
                       skus: Sequence[str] | None = None, now: datetime | None = None
                       ) -> DemandQuery:
    """Staff only; unknown SKUs are ``NotFound``."""
    require_staff(actor)
    window = rules.window(first, last)
    ids = None if skus is None else await _product_ids(skus)
    return DemandQuery(window, Bucket(bucket), ids, now or utcnow())


async def _product_ids(skus: Sequence[str]) -> list[int]:
    if len(skus) > MAX_SKUS:
        raise InvalidInput("skus", f"at most {MAX_SKUS}")
    wanted = [inputs.sku(s, "skus") for s in skus]
    found = {p["sku"]: p["id"] for p in
             await Product.filter(sku__in=wanted).values("id", "sku")}
    for sku in wanted:
        if sku not in found:
            raise NotFound("Product", sku)
    return sorted(set(found.values()))


def oldest_age(query: DemandQuery, figures: Figures) -> int | None:
    """Seconds the oldest open back order has waited when the report is made."""
    if figures.oldest_open_placed is None:
        return None
    return store.epoch(query.now) - figures.oldest_open_placed


async def total(query: DemandQuery) -> Figures:
    rows = await store.figures(query.window, query.bucket, query.product_ids,
                               by_product=False, by_bucket=False)
    return rows[0] if rows else EMPTY


def _laid_out(query: DemandQuery, rows: Sequence[Figures]) -> list[tuple[Period, Figures]]:
    by_start = {row.bucket: row for row in rows}
    return [(period, by_start.get(period.start, EMPTY))
            for period in rules.periods(query.window.first, query.window.last, query.bucket)]


async def periods(query: DemandQuery) -> list[tuple[Period, Figures]]:
    """Every bucket of the window, the selected products together (empty ones too)."""
    rows = await store.figures(query.window, query.bucket, query.product_ids,
                               by_product=False, by_bucket=True)
    return _laid_out(query, rows)


async def product_periods(query: DemandQuery, product_ids: Sequence[int]
                          ) -> dict[int, list[tuple[Period, Figures]]]:
    rows = await store.figures(query.window, query.bucket, list(product_ids),
                               by_product=True, by_bucket=True)
    grouped: dict[int, list[Figures]] = {i: [] for i in product_ids}
    for row in rows:
        assert row.product_id is not None
        grouped[row.product_id].append(row)
    return {i: _laid_out(query, found) for i, found in grouped.items()}


async def ranking(query: DemandQuery, first: int, after: str | None) -> Page[Ranked]:  # type: ignore[type-var]
    """Products with orders in the window, most open back-ordered units first."""
    start = 0 if after is None else validation.row_id(decode_cursor(after), "after")
    rows, count = await store.ranked(query.window, query.product_ids, start, first + 1)

    async def counted() -> int:
        return count

    items = rows[:first]
    return Page(items, [r.rank for r in items], len(rows) > first,  # type: ignore[type-var]
                after is not None, counted)


@dataclass
class PagePeriods:
    """The buckets of a page's products, read for all of them at once when first asked."""

    query: DemandQuery
    product_ids: list[int]
    _found: dict[int, list[tuple[Period, Figures]]] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def of(self, product_id: int) -> list[tuple[Period, Figures]]:
        async with self._lock:
            if self._found is None:
                self._found = await product_periods(self.query, self.product_ids)
        return self._found[product_id]


async def export_rows(query: DemandQuery, batch: int = EXPORT_BATCH
                      ) -> AsyncIterator[list[tuple[str, Figures]]]:
    """Rows of (SKU, figures) per product and bucket with orders, in SKU and bucket order,
    one batch of products per statement."""
    after: str | None = None
    while True:
        products = await store.products_after(after, query.product_ids, batch)
        if not products:
            return
        skus = dict(products)
        rows = await store.figures(query.window, query.bucket, list(skus),
                                   by_product=True, by_bucket=True)
        by_product = sorted(rows, key=lambda r: (skus[r.product_id or 0], r.bucket))
        if by_product:
            yield [(skus[r.product_id or 0], r) for r in by_product]
        after = products[-1][1]
        if len(products) < batch:
            return
