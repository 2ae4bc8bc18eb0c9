"""The demand report in SQL: every sum, rate, wait and percentile is the database's.

One statement shape for both databases, grouped by product, by bucket, by both or by
nothing (a whole window). Lines and back orders placed in the window are aggregated apart
(``lines``, ``backs``) and joined on the group's keys. PostgreSQL takes its percentiles from
``percentile_cont``; SQLite has none, so there they are found by ``ROW_NUMBER`` and
``COUNT`` over each group and interpolated by the same rule
(``api.domain.demand.percentile_cont``), so both answer the same.

Waits are whole seconds (both sides cut to the second); money is summed in cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from api.domain.demand import Bucket, Window
from api.domain.model import QUEUED_STATUSES, Status
from api.store import statements
from api.store.models import BackOrder

QUEUED = ", ".join(f"'{s.value}'" for s in sorted(QUEUED_STATUSES))
SHIPPED = f"'{Status.SHIPPED.value}'"
CANCELLED = f"'{Status.CANCELLED.value}'"
FRACTIONS = (("p50", "0.5"), ("p90", "0.9"))
WAITS = ("to_allocated", "to_shipped")


@dataclass(frozen=True)
class Figures:
    """One row of the report: a product, a bucket, both or neither (``None`` keys)."""

    product_id: int | None
    bucket: date | None
    units_ordered: int
    units_backordered: int
    units_filled: int
    back_orders: int
    cancelled: int
    open_back_orders: int
    open_units: int
    oldest_open_placed: int | None
    """Seconds since the epoch of the oldest open back order's placing."""
    cash_cents: int
    waits: dict[str, tuple[int, float | None, float | None, float | None]]
    """``to_allocated`` and ``to_shipped``: (count, mean, p50, p90) in seconds."""
    ratings: int
    rating_mean: float | None


def _epoch(postgres: bool, column: str) -> str:
    if postgres:
        return f"CAST(EXTRACT(EPOCH FROM date_trunc('second', {column})) AS BIGINT)"
    return f"unixepoch({column})"


def _bucket(postgres: bool, bucket: Bucket, column: str) -> str:
    if postgres:
        unit = {Bucket.DAY: "day", Bucket.WEEK: "week", Bucket.MONTH: "month"}[bucket]
        return f"CAST(date_trunc('{unit}', {column} AT TIME ZONE 'UTC') AS DATE)"
    modifiers = {Bucket.DAY: "", Bucket.WEEK: ", '-6 days', 'weekday 1'",
                 Bucket.MONTH: ", 'start of month'"}[bucket]
    return f"date({column}{modifiers})"


def _in(column: str, first: int, count: int) -> str:
    if not count:
        return ""
    return f" AND {column} IN ({', '.join(f'${first + i}' for i in range(count))})"


def _percentiles_pg(wait: str) -> str:
    return ", ".join(f"percentile_cont({value}) WITHIN GROUP (ORDER BY {wait}) AS {wait}_{name}"
                     for name, value in FRACTIONS)


def _percentiles_sqlite(wait: str, names: list[str]) -> str:
    """CTEs ``{wait}_ranked`` and ``{wait}_pct``: the wait's p50 and p90 per group."""
    keys = "".join(f"{n}, " for n in names)
    part = f"PARTITION BY {', '.join(names)} " if names else ""
    group = f" GROUP BY {', '.join(names)}" if names else ""
    picks = []
    for name, value in FRACTIONS:
        position = f"{value} * (n - 1)"
        below = f"CAST({position} AS INTEGER)"
        picks += [f"MAX(CASE WHEN rn - 1 = {below} THEN v END) AS lo_{name}",
                  f"MAX(CASE WHEN rn - 1 = {below} + 1 THEN v END) AS hi_{name}",
                  f"MAX({position} - {below}) AS f_{name}"]
    results = ", ".join(
        f"CASE WHEN hi_{name} IS NULL THEN lo_{name}"
        f" ELSE lo_{name} + f_{name} * (hi_{name} - lo_{name}) END AS {wait}_{name}"
        for name, _ in FRACTIONS)
    return (f"{wait}_ranked AS (SELECT {keys}{wait} AS v,"
            f" ROW_NUMBER() OVER ({part}ORDER BY {wait}) AS rn,"
            f" COUNT(*) OVER ({part.strip()}) AS n FROM b WHERE {wait} IS NOT NULL),\n"
            f"{wait}_pct AS (SELECT {keys}{results} FROM (SELECT {keys}{', '.join(picks)}"
            f" FROM {wait}_ranked{group}) picked)")


@cache
def figures_sql(postgres: bool, bucket: Bucket, by_product: bool, by_bucket: bool,
                products: int) -> str:
    """``WITH ... figures AS (...)``: one row per group; parameters ``$1`` (since), ``$2``
    (until), then ``products`` product ids. The caller adds its own final ``SELECT``."""
    names = (["product_id"] if by_product else []) + (["bucket"] if by_bucket else [])
    keys = "".join(f"{n}, " for n in names)
    group = f" GROUP BY {', '.join(names)}" if names else ""

    def join(cte: str) -> str:
        if not names:
            return f" CROSS JOIN {cte}"
        return f" LEFT JOIN {cte} USING ({', '.join(names)})"

    line_bucket = f"{_bucket(postgres, bucket, 'o.placed_at')} AS bucket, " if by_bucket else ""
    back_bucket = f"{_bucket(postgres, bucket, 'b.placed_at')} AS bucket, " if by_bucket else ""
    placed = _epoch(postgres, "b.placed_at")
    real = "DOUBLE PRECISION"
    ctes = [
        f"l AS (SELECT l.product_id, {line_bucket}l.quantity, l.backordered, l.allocated_now"
        ' FROM "order_line" l JOIN "customer_order" o ON o."id" = l."order_id"'
        f" WHERE o.placed_at >= $1 AND o.placed_at < $2{_in('l.product_id', 3, products)})",
        f"lines AS (SELECT {keys}SUM(quantity) AS units_ordered,"
        " SUM(backordered) AS units_backordered, SUM(allocated_now) AS units_filled"
        f" FROM l{group})",
        f"b AS (SELECT b.product_id, {back_bucket}b.status, b.quantity - b.allocated AS"
        f" remaining, {placed} AS placed,"
        " CAST(ROUND(CASE WHEN b.paid_amount > b.unit_price * b.allocated THEN"
        " (b.paid_amount - b.unit_price * b.allocated) * 100 ELSE 0 END) AS BIGINT)"
        " AS ahead_cents,"
        f" CAST(CASE WHEN b.allocated_at IS NOT NULL THEN"
        f" {_epoch(postgres, 'b.allocated_at')} - {placed} END AS {real}) AS to_allocated,"
        f" CAST(CASE WHEN b.status = {SHIPPED} THEN"
        f" {_epoch(postgres, 'b.closed_at')} - {placed} END AS {real}) AS to_shipped,"
        " r.rating"
        ' FROM "back_order" b LEFT JOIN "wait_rating" r ON r."back_order_id" = b."id"'
        f" WHERE b.placed_at >= $1 AND b.placed_at < $2{_in('b.product_id', 3, products)})",
    ]
    waits = ", ".join(
        f"COUNT({w}) AS {w}_count, SUM({w}) / NULLIF(COUNT({w}), 0) AS {w}_mean"
        for w in WAITS)
    if postgres:
        waits += ", " + ", ".join(_percentiles_pg(w) for w in WAITS)
    ctes.append(
        f"backs AS (SELECT {keys}COUNT(*) AS back_orders,"
        f" SUM(CASE WHEN status = {CANCELLED} THEN 1 ELSE 0 END) AS cancelled,"
        f" SUM(CASE WHEN status IN ({QUEUED}) THEN 1 ELSE 0 END) AS open_back_orders,"
        f" SUM(CASE WHEN status IN ({QUEUED}) THEN remaining ELSE 0 END) AS open_units,"
        f" MIN(CASE WHEN status IN ({QUEUED}) THEN placed END) AS oldest_open_placed,"
        f" SUM(CASE WHEN status IN ({QUEUED}) THEN ahead_cents ELSE 0 END) AS cash_cents,"
        f" COUNT(rating) AS ratings, CAST(SUM(rating) AS {real}) / NULLIF(COUNT(rating), 0)"
        f" AS rating_mean, {waits} FROM b{group})")
    joined = "lines" + join("backs")
    if not postgres:
        ctes += [_percentiles_sqlite(w, names) for w in WAITS]
        joined += "".join(join(f"{w}_pct") for w in WAITS)
    ctes.append(f"figures AS (SELECT * FROM {joined})")
    return "WITH " + ",\n".join(ctes) + "\n"


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _figures(row: dict[str, Any]) -> Figures:
    return Figures(
        product_id=row.get("product_id"),
        bucket=_date(row.get("bucket")),
        units_ordered=int(row["units_ordered"] or 0),
        units_backordered=int(row["units_backordered"] or 0),
        units_filled=int(row["units_filled"] or 0),
        back_orders=int(row["back_orders"] or 0),
        cancelled=int(row["cancelled"] or 0),
        open_back_orders=int(row["open_back_orders"] or 0),
        open_units=int(row["open_units"] or 0),
        oldest_open_placed=(None if row["oldest_open_placed"] is None
                            else int(row["oldest_open_placed"])),
        cash_cents=int(row["cash_cents"] or 0),
        waits={w: (int(row[f"{w}_count"] or 0), _float(row[f"{w}_mean"]),
                   _float(row[f"{w}_p50"]), _float(row[f"{w}_p90"])) for w in WAITS},
        ratings=int(row["ratings"] or 0),
        rating_mean=_float(row["rating_mean"]),
    )


def cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def _window(window: Window) -> list[Any]:
    field = BackOrder._meta.fields_map["placed_at"]
    return [field.to_db_value(window.since, BackOrder), field.to_db_value(window.until, BackOrder)]


def _postgres() -> bool:
    return statements.is_postgres(statements.connection())


async def figures(window: Window, bucket: Bucket, product_ids: Sequence[int] | None, *,
                  by_product: bool, by_bucket: bool) -> list[Figures]:
    """The report's rows for these groups, in key order (all products when ids is None)."""
    ids = list(product_ids or ())
    if product_ids is not None and not ids:
        return []
    sql = figures_statement(_postgres(), bucket, by_product, by_bucket, len(ids))
    rows = await statements.fetch(sql, [*_window(window), *ids])
    return [_figures(row) for row in rows]


@cache
def figures_statement(postgres: bool, bucket: Bucket, by_product: bool, by_bucket: bool,
                      products: int) -> str:
    """The statement of ``figures``: its groups in key order (parameters of ``figures_sql``)."""
    names = (["product_id"] if by_product else []) + (["bucket"] if by_bucket else [])
    order = f" ORDER BY {', '.join(names)}" if names else ""
    return figures_sql(postgres, bucket, by_product, by_bucket, products) + (
        f"SELECT * FROM figures{order}")


@dataclass(frozen=True)
class Ranked:
    rank: int
    sku: str
    figures: Figures


async def ranked(window: Window, product_ids: Sequence[int] | None, after: int, limit: int
                 ) -> tuple[list[Ranked], int]:
    """Products with orders in the window, by open back-ordered units (most first, then
    SKU): the ``limit`` ranked after ``after``, and how many are ranked in all."""
    ids = list(product_ids or ())
    if product_ids is not None and not ids:
        return [], 0
    sql = ranked_statement(_postgres(), len(ids))
    rows = await statements.fetch(sql, [*_window(window), *ids, after, limit])
    total = int(rows[0]["ranked"]) if rows else await _ranked_count(window, ids)
    return [Ranked(int(r["rank"]), str(r["sku"]), _figures(r)) for r in rows], total


@cache
def ranked_statement(postgres: bool, products: int) -> str:
    """The statement of ``ranked``: parameters of ``figures_sql``, then after and limit."""
    at = 3 + products
    return figures_sql(postgres, Bucket.DAY, True, False, products) + (
        "SELECT * FROM (SELECT f.*, p.sku AS sku,"
        " ROW_NUMBER() OVER (ORDER BY COALESCE(f.open_units, 0) DESC, p.sku) AS rank,"
        ' COUNT(*) OVER () AS ranked FROM figures f JOIN "product" p ON p."id" = f.product_id)'
        f" x WHERE rank > ${at} ORDER BY rank LIMIT ${at + 1}")


async def _ranked_count(window: Window, ids: list[int]) -> int:
    sql = figures_sql(_postgres(), Bucket.DAY, True, False, len(ids))
    rows = await statements.fetch(sql + "SELECT COUNT(*) AS n FROM figures",
                                  [*_window(window), *ids])
    return int(rows[0]["n"])


async def products_after(sku: str | None, product_ids: Sequence[int] | None, limit: int
                         ) -> list[tuple[int, str]]:
    """(id, sku) of products in SKU order after ``sku``: the batches of an export."""
    where: list[str] = []
    params: list[object] = []
    if sku is not None:
        params.append(sku)
        where.append(f'"sku" > ${len(params)}')
    if product_ids is not None:
        where.append(f'"id" IN ({", ".join(str(int(i)) for i in product_ids) or "NULL"})')
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    params.append(limit)
    rows = await statements.fetch(
        f'SELECT "id", "sku" FROM "product"{clause} ORDER BY "sku" LIMIT ${len(params)}', params)
    return [(int(r["id"]), str(r["sku"])) for r in rows]


def epoch(at: datetime) -> int:
    return int(at.timestamp())
