"""Figure 8: the staff ``demandReport`` over many order lines, against its own SQL.

Ours: one POST of the whole report (total, weekly periods, the first page of products with
their periods) to the real service on PostgreSQL, with a staff token. Baseline: the same
statements (the text ``api/store/demand.py`` sends, the same parameters) run by asyncpg in
this process, with the same order of work: the total, the periods and the ranking at once,
then the page's products by period. Each side keeps its best run.

The data set is written set-based: ``lines`` order lines, two per order, over ``lines //
1000`` products (at least two pages) and the 90 days before today; a fifth of them
back-ordered, their back orders waiting, partly allocated, allocated, shipped (half of them
rated) or cancelled.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from api.domain.demand import Bucket, window
from api.domain.identity import Role
from api.store.database import migrate
from api.store.demand import figures_statement, ranked_statement
from tests.e2e.server import ServerProcess
from tests.pgserver import PostgresServer

DAYS = 90
PAGE = 20

FIGURES = (
    "unitsOrdered unitsBackordered backorderRate fillRate backOrders cancelledBackOrders"
    " cancellationRate openBackOrders openBackorderedUnits oldestOpenAgeSeconds"
    " cashCollectedAheadOfStock { amount currencyCode }"
    " waitToAllocated { count meanSeconds p50Seconds p90Seconds }"
    " waitToShipped { count meanSeconds p50Seconds p90Seconds } ratings averageRating")
REPORT = (
    "query($from: Date!, $to: Date!) { demandReport(from: $from, to: $to, bucket: WEEK) {"
    " from to measuredAt total { F } periods { start end figures { F } }"
    f" products(first: {PAGE}) {{ totalCount pageInfo {{ hasNextPage endCursor }}"
    " edges { node { rank product { sku } figures { F }"
    " periods { start end figures { F } } } } } } }").replace("F", FIGURES)

STATUSES = ("WAITING", "WAITING", "WAITING", "PARTIALLY_ALLOCATED", "ALLOCATED", "ALLOCATED",
            "SHIPPED", "SHIPPED", "SHIPPED", "CANCELLED")


def first_day() -> date:
    return datetime.now(UTC).date() - timedelta(days=DAYS)


async def seed(url: str, lines: int) -> None:
    """The data set of the module's docstring, then VACUUM ANALYZE (a database in use has
    its statistics)."""
    products = max(lines // 1000, 2 * PAGE)
    orders = lines // 2
    start = datetime.combine(first_day(), datetime.min.time(), UTC)
    step = DAYS * 86400 / orders
    statuses = "ARRAY[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO product (sku, name, digital, price, discontinued, on_hand,"
                " allocated, waiting, held, allow_backorders, lead_time_days, handling_days,"
                " delay_grace_days, low_stock_threshold, version, created_at, updated_at)"
                " SELECT 'D' || lpad(g::text, 6, '0'), 'Product ' || g, false, 10 + g % 50,"
                " false, 0, 0, 0, 0, true, 14, 1, 2, 5, 1, now(), now()"
                " FROM generate_series(1, $1) g", products)
            base = await conn.fetchval("SELECT MIN(id) - 1 FROM product WHERE sku LIKE 'D%'")
            await conn.execute(
                "INSERT INTO customer_order (id, customer_id, idempotency_key, request_hash,"
                " currency, amount_charged, amount_refunded, amount_credited, placed_at)"
                " SELECT g, 'd' || g % 50000, 'bench-' || g, 'h', 'USD', 0, 0, 0,"
                " $2::timestamptz + (g - 1) * $3::float8 * interval '1 second'"
                " FROM generate_series(1, $1) g", orders, start, step)
            # Line g: order (g + 1) / 2, product p by a hash of g; every fifth line
            # back-ordered in full.
            await conn.execute(
                "INSERT INTO order_line (id, order_id, product_id, quantity, unit_price,"
                " amount_charged, allocated_now, backordered)"
                " SELECT g, (g + 1) / 2, $3 + 1 + p, q, 10 + (p + 1) % 50, q * (10 + (p + 1)"
                " % 50), CASE WHEN g % 5 = 0 THEN 0 ELSE q END,"
                " CASE WHEN g % 5 = 0 THEN q ELSE 0 END FROM generate_series(1, $1) g,"
                " LATERAL (SELECT 1 + g % 3 AS q, abs(hashint4(g)::bigint) % $2 AS p) x",
                orders * 2, products, base)
            await conn.execute(
                "INSERT INTO back_order (order_id, line_id, product_id, customer_id,"
                " quantity, allocated, status, priority, placed_at, unit_price,"
                " queue_position, units_ahead, estimated_ship_date, estimate_scheduled,"
                " promised_date, delayed, refunded_amount, compensated_amount, version,"
                " updated_at, allocated_at, closed_at, paid_amount)"
                " SELECT l.order_id, l.id, l.product_id, o.customer_id, l.quantity,"
                " CASE s WHEN 'WAITING' THEN 0 WHEN 'PARTIALLY_ALLOCATED' THEN l.quantity / 2"
                "  WHEN 'CANCELLED' THEN 0 ELSE l.quantity END,"
                " s, 0, o.placed_at, l.unit_price, NULL, 0, current_date + 14, false,"
                " current_date + 14, false, 0, 0, 1, now(),"
                " CASE WHEN s IN ('ALLOCATED', 'SHIPPED') THEN o.placed_at + w END,"
                " CASE WHEN s = 'SHIPPED' THEN o.placed_at + w + interval '20 hours'"
                "  WHEN s = 'CANCELLED' THEN o.placed_at + interval '3 days' END,"
                " l.unit_price * l.quantity"
                " FROM order_line l JOIN customer_order o ON o.id = l.order_id,"
                f" LATERAL (SELECT ({statuses})[1 + (l.id / 5) % 10] AS s,"
                " (1 + l.id % 17) * interval '1 day' + (l.id % 86400) * interval '1 second'"
                " AS w) x WHERE l.backordered > 0")
            await conn.execute(
                "INSERT INTO wait_rating (back_order_id, customer_id, rating, comment,"
                " created_at) SELECT id, customer_id, 1 + id % 5, '', closed_at"
                " FROM back_order WHERE status = 'SHIPPED' AND id % 2 = 0")
            for table in ("customer_order", "order_line"):
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                   f" (SELECT MAX(id) FROM {table}))")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def statements(since: datetime, until: datetime) -> dict[str, tuple[str, list[Any]]]:
    """The report's first three statements, as the service sends them."""
    window_ = [since, until]
    return {
        "total": (figures_statement(True, Bucket.WEEK, False, False, 0), window_),
        "periods": (figures_statement(True, Bucket.WEEK, False, True, 0), window_),
        "ranked": (ranked_statement(True, 0), [*window_, 0, PAGE + 1]),
    }


async def raw_report(pool: asyncpg.Pool, since: datetime, until: datetime) -> float:
    """Seconds for the report's statements through asyncpg, in the service's order."""
    start = time.perf_counter()
    found = await asyncio.gather(*(pool.fetch(sql, *args)
                                   for sql, args in statements(since, until).values()))
    ids = [r["product_id"] for r in found[2][:PAGE]]
    sql = figures_statement(True, Bucket.WEEK, True, True, len(ids))
    rows = await pool.fetch(sql, since, until, *ids)
    elapsed = time.perf_counter() - start
    assert rows and found[0][0]["units_ordered"], "the baseline read nothing"
    return elapsed


def our_report(client: httpx.Client, token: str, first: date, last: date) -> float:
    start = time.perf_counter()
    response = client.post("/graphql", json={"query": REPORT, "variables": {
        "from": first.isoformat(), "to": last.isoformat()}},
        headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - start
    body = response.json()
    assert "errors" not in body, body
    assert len(body["data"]["demandReport"]["products"]["edges"]) == PAGE
    return elapsed


async def run(pg: PostgresServer, lines: int, rounds: int, workdir: Path
              ) -> tuple[float, float]:
    """(ours, baseline): the best seconds of ``rounds`` runs each, after one of each."""
    url = pg.create_database("bench_demand")
    await migrate(url)
    await seed(url, lines)
    first = first_day()
    last = datetime.now(UTC).date() - timedelta(days=1)
    span = window(first, last)
    server = ServerProcess(url, workdir / "demand.log", "--no-migrate")
    pool = await asyncpg.create_pool(url, min_size=5, max_size=5)
    ours, base = [], []
    try:
        token = server.token("bench", Role.STAFF)
        with httpx.Client(base_url=server.url, timeout=600) as client:
            for _ in range(rounds + 1):
                ours.append(our_report(client, token, first, last))
                base.append(await raw_report(pool, span.since, span.until))
    finally:
        await pool.close()
        server.stop()
    return min(ours[1:]), min(base[1:])
