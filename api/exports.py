"""``GET /reports/demand.csv``: the demand report for spreadsheets, streamed.

The same authorization as ``demandReport`` (the gateway's bearer token, staff only) and the
same figures (``api/services/demand.py``): one row per product and bucket with orders,
in SKU and bucket order, read one batch of products per statement as the response goes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from api.domain import demand as rules
from api.domain.demand import Bucket, ratio
from api.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from api.services import demand
from api.store.demand import WAITS, Figures, cents

HEADER = [
    "sku", "period_start", "period_end", "units_ordered", "units_backordered",
    "backorder_rate", "fill_rate", "back_orders", "cancelled_back_orders",
    "cancellation_rate", "open_back_orders", "open_backordered_units",
    "oldest_open_age_seconds", "cash_collected_ahead_of_stock", "currency",
    *(f"wait_{w}_{m}" for w in WAITS for m in ("count", "mean_seconds", "p50_seconds",
                                               "p90_seconds")),
    "ratings", "average_rating",
]
STATUS = {Forbidden: 403, NotFound: 404, InvalidInput: 400}


def _day(request: Request, name: str) -> date:
    value = request.query_params.get(name)
    if value is None:
        raise InvalidInput(name, "required (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(name, "not a date (YYYY-MM-DD)") from None


def _bucket(request: Request) -> Bucket:
    value = request.query_params.get("bucket", "week").upper()
    if value not in Bucket.__members__:
        raise InvalidInput("bucket", "day, week or month")
    return Bucket(value)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _row(query: demand.DemandQuery, sku: str, row: Figures, currency: str) -> list[str]:
    assert row.bucket is not None
    following = rules.next_start(row.bucket, query.bucket) - timedelta(days=1)
    first, last = max(row.bucket, query.window.first), min(following, query.window.last)
    waits = [value for w in WAITS for value in row.waits[w]]
    return [_cell(v) for v in (
        sku, first.isoformat(), last.isoformat(), row.units_ordered, row.units_backordered,
        ratio(row.units_backordered, row.units_ordered),
        ratio(row.units_filled, row.units_ordered), row.back_orders, row.cancelled,
        ratio(row.cancelled, row.back_orders), row.open_back_orders, row.open_units,
        demand.oldest_age(query, row), cents(row.cash_cents), currency, *waits,
        row.ratings, row.rating_mean)]


async def _lines(query: demand.DemandQuery, currency: str) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    async for batch in demand.export_rows(query):
        for sku, row in batch:
            writer.writerow(_row(query, sku, row, currency))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


async def demand_csv(request: Request, currency: str) -> Response:
    try:
        query = await demand.demand_query(
            request.state.actor, _day(request, "from"), _day(request, "to"), _bucket(request),
            request.query_params.getlist("sku") or None)
    except DomainError as exc:
        status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)
        return PlainTextResponse(f"{exc.code}: {exc.message}\n", status_code=status)
    name = f"demand-{query.window.first}-{query.window.last}-{query.bucket.lower()}.csv"
    return StreamingResponse(
        _lines(query, currency), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'})
