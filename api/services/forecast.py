"""A product's demand forecast and reorder suggestion (staff).

The history is the demand report's own daily units ordered (``api/store/demand.py``, summed
by the database), the last year up to yesterday; the rules are ``api.domain.forecast`` and
``api.domain.reorder``. Fitting is CPU work, so it runs in a worker thread, off the loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.domain import forecast as rules
from api.domain import reorder
from api.domain.demand import Bucket, Window
from api.domain.errors import NotFound
from api.domain.identity import Actor, require_staff
from api.domain.restocks import OPEN_RESTOCK_STATUSES
from api.services import inputs
from api.services.clock import utcnow
from api.store import demand as store
from api.store.models import Product, Restock


@dataclass(frozen=True)
class ProductForecast:
    product: Product
    forecast: rules.Forecast
    history_last: date
    """Yesterday: the last day of the history."""


@dataclass(frozen=True)
class ProductReorder:
    product: Product
    forecast: rules.Forecast
    """The forecast over the lead time the suggestion rests on."""
    suggestion: reorder.ReorderSuggestion
    restocks_until: date
    """Open restocks expected on or before this day count (today + the lead time)."""


async def _product(sku: str) -> Product:
    found = await Product.get_or_none(sku=inputs.sku(sku))
    if found is None:
        raise NotFound("Product", sku)
    return found


async def history(product_id: int, today: date) -> tuple[date | None, tuple[int, ...]]:
    """Units ordered per day, from the first day with an order in the last year to
    yesterday, the days without orders as zeros."""
    first, last = rules.history_window(today)
    rows = await store.figures(Window(first, last), Bucket.DAY, [product_id],
                               by_product=False, by_bucket=True)
    units = {row.bucket: row.units_ordered for row in rows if row.bucket is not None}
    return rules.daily_series(first, last, units)


async def _forecast(product: Product, today: date, days: int) -> rules.Forecast:
    first, series = await history(product.id, today)
    return await asyncio.to_thread(rules.forecast, first, series, today, days)


async def demand_forecast(actor: Actor | None, sku: str, days: int,
                          now: datetime | None = None) -> ProductForecast:
    """``days`` days from today (UTC), today included."""
    require_staff(actor)
    days = rules.horizon(days)
    product = await _product(sku)
    today = (now or utcnow()).date()
    return ProductForecast(product, await _forecast(product, today, days),
                           today - timedelta(days=1))


async def reorder_suggestion(actor: Actor | None, sku: str, level: float,
                             now: datetime | None = None) -> ProductReorder:
    require_staff(actor)
    level = reorder.service_level(level)
    product = await _product(sku)
    today = (now or utcnow()).date()
    lead = product.lead_time_days
    forecast = await _forecast(product, today, lead)
    until = today + timedelta(days=lead)
    restocks = await Restock.filter(product_id=product.id,
                                    status__in=list(OPEN_RESTOCK_STATUSES),
                                    expected_date__lte=until)
    suggestion = reorder.suggest(
        lead_time_days=lead, lead_time_demand=sum(d.mean for d in forecast.days),
        sigma_daily=forecast.sigma, level=level,
        open_backordered_units=product.waiting,
        available_units=product.stock.available,
        scheduled_restock_units=sum(r.outstanding for r in restocks))
    return ProductReorder(product, forecast, suggestion, until)
