"""The demand report (staff): back-order rates, fill, waits, give-ups and cash ahead of stock.

The figures come from ``api/services/demand.py``; each part of the report is read only
when it is selected (``total``, ``periods``, ``products``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

import strawberry

from api.domain import forecast as forecasting
from api.domain import validation
from api.domain.demand import Bucket, Period, ratio
from api.domain.forecast import Method
from api.graphql.context import Info
from api.graphql.enums import described
from api.graphql.errors import (
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from api.graphql.fields import executor_field, known
from api.graphql.types import Connection, Money, Product
from api.services import demand, forecast, ratings, reads
from api.store.demand import Figures, cents

DemandBucket = described(Bucket, "DemandBucket", "How the report's window is cut into periods.", {
    Bucket.DAY: "One period per calendar day (UTC).",
    Bucket.WEEK: "One period per ISO week, Monday to Sunday (UTC).",
    Bucket.MONTH: "One period per calendar month (UTC).",
})


@strawberry.type(description="How long back orders waited, in whole seconds.")
class WaitFigures:
    count: int = strawberry.field(description="Back orders that got this far.")
    mean_seconds: float | None = strawberry.field(
        description="The mean wait; null when none got this far.")
    p50_seconds: float | None = strawberry.field(
        description="The median wait (interpolated between the two middle waits).")
    p90_seconds: float | None = strawberry.field(
        description="The wait 90% of them did not exceed (interpolated linearly, as "
        "PostgreSQL's percentile_cont).")


@strawberry.type(description="What customers asked for and how they were served, over the "
                 "order lines and back orders placed in one period (or the whole window).")
class DemandFigures:
    units_ordered: int = strawberry.field(description="Units of every order line placed.")
    units_backordered: int = strawberry.field(
        description="Of those, the units that could not be taken from stock when ordered.")
    backorder_rate: float | None = strawberry.field(
        description="Units back-ordered / units ordered, 0 to 1; null with no orders.")
    fill_rate: float | None = strawberry.field(
        description="Units taken from stock when ordered / units ordered, 0 to 1; null "
        "with no orders.")
    back_orders: int = strawberry.field(description="Back orders placed.")
    cancelled_back_orders: int = strawberry.field(
        description="Of those, the ones cancelled since (by the customer or staff).")
    cancellation_rate: float | None = strawberry.field(
        description="Cancelled back orders / back orders, 0 to 1; null with none.")
    open_back_orders: int = strawberry.field(
        description="Of those back orders, the ones still waiting for stock now (waiting "
        "or partly allocated).")
    open_backordered_units: int = strawberry.field(
        description="Their units not allocated yet.")
    oldest_open_age_seconds: int | None = strawberry.field(
        description="How long the oldest of them has waited, in seconds, when the report "
        "was made (`DemandReport.measuredAt`); null with none open.")
    cash_collected_ahead_of_stock: Money = strawberry.field(
        description="The price of their units not allocated yet: money taken for stock the "
        "shop does not have (the rule of `Product.queueFigures`).")
    wait_to_allocated: WaitFigures = strawberry.field(
        description="From placed to fully allocated, for the back orders that were.")
    wait_to_shipped: WaitFigures = strawberry.field(
        description="From placed to shipped, for the back orders that shipped.")
    ratings: int = strawberry.field(
        description="Of the shipped back orders, how many customers rated the wait.")
    average_rating: float | None = strawberry.field(
        description="Their mean rating, 1 (worst) to 5 (best); null with none.")


@strawberry.type(description="One period of the report.")
class DemandPeriod:
    start: date = strawberry.field(
        description="The first day of the period, cut to the window.")
    end: date = strawberry.field(
        description="The last day of the period (included), cut to the window.")
    figures: DemandFigures = strawberry.field(description="The period's figures.")


@strawberry.type(description="One product's demand over the report's window.")
class ProductDemand:
    rank: int = strawberry.field(
        description="1 for the product with the most open back-ordered units (ties by "
        "SKU).")
    product_id: strawberry.Private[int]
    product: Product = known("products", "r.product_id",
                             description="The product.")
    figures: DemandFigures = strawberry.field(description="Its figures over the window.")
    shared: strawberry.Private[demand.PagePeriods]

    @executor_field("reads the page's buckets at once",
                    description="Its figures per period, every period of the window.")
    async def periods(self) -> list[DemandPeriod]:
        return [_period(self.shared.query, p, f, self.currency)
                for p, f in await self.shared.of(self.product_id)]

    currency: strawberry.Private[str]


ProductDemandConnection = Connection[ProductDemand]


def _figures(query: demand.DemandQuery, row: Figures, currency: str) -> DemandFigures:
    def wait(name: str) -> WaitFigures:
        count, mean, p50, p90 = row.waits[name]
        return WaitFigures(count=count, mean_seconds=mean, p50_seconds=p50, p90_seconds=p90)

    return DemandFigures(
        units_ordered=row.units_ordered,
        units_backordered=row.units_backordered,
        backorder_rate=ratio(row.units_backordered, row.units_ordered),
        fill_rate=ratio(row.units_filled, row.units_ordered),
        back_orders=row.back_orders,
        cancelled_back_orders=row.cancelled,
        cancellation_rate=ratio(row.cancelled, row.back_orders),
        open_back_orders=row.open_back_orders,
        open_backordered_units=row.open_units,
        oldest_open_age_seconds=demand.oldest_age(query, row),
        cash_collected_ahead_of_stock=(cents(row.cash_cents), currency),  # type: ignore[arg-type]
        wait_to_allocated=wait("to_allocated"),
        wait_to_shipped=wait("to_shipped"),
        ratings=row.ratings,
        average_rating=row.rating_mean,
    )


def _period(query: demand.DemandQuery, period: Period, row: Figures, currency: str
            ) -> DemandPeriod:
    return DemandPeriod(start=period.first, end=period.last,
                        figures=_figures(query, row, currency))


@strawberry.type(description="Staff: demand over a window of days, read by the database.")
class DemandReport:
    from_: date = strawberry.field(name="from", description="The window's first day (UTC).")
    to: date = strawberry.field(description="The window's last day, included (UTC).")
    bucket: DemandBucket = strawberry.field(  # type: ignore[valid-type]
        description="How `periods` cut the window.")
    measured_at: datetime = strawberry.field(
        description="When the report was made: open back orders are those open then.")
    query: strawberry.Private[demand.DemandQuery]
    currency: strawberry.Private[str]

    @executor_field("reads the figures", description="The whole window, every selected "
                    "product together.")
    async def total(self) -> DemandFigures:
        return _figures(self.query, await demand.total(self.query), self.currency)

    @executor_field("reads the figures", description="Every period of the window, the "
                    "selected products together (periods without orders are zeros).")
    async def periods(self) -> list[DemandPeriod]:
        return [_period(self.query, p, f, self.currency)
                for p, f in await demand.periods(self.query)]

    @executor_field("takes page arguments, reads a page", description="The products with "
                    "orders in the window, most open back-ordered units first.")
    async def products(
        self, info: Info,
        first: Annotated[int | None, strawberry.argument(
            description="Page size (at most the server's page limit).")] = None,
        after: Annotated[str | None, strawberry.argument(
            description="The `endCursor` of the page before.")] = None,
    ) -> ProductDemandConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        page: Any = await demand.ranking(self.query, size, after)
        shared = demand.PagePeriods(self.query, [r.figures.product_id for r in page.items])
        page.items = [ProductDemand(rank=r.rank, product_id=r.figures.product_id,
                                    figures=_figures(self.query, r.figures, self.currency),
                                    shared=shared, currency=self.currency)
                      for r in page.items]
        return ProductDemandConnection.of(page)


ForecastMethod = described(Method, "ForecastMethod", "How a demand forecast was made.", {
    Method.HOLT_WINTERS: (
        "Additive Holt-Winters (ETS(A,A,A)): level, trend and a weekly season fitted to the "
        "daily history (at least 14 days, two full weeks, since the first order)."),
    Method.MEAN_FALLBACK: (
        "The history is too short for Holt-Winters (under 14 days since the first order, "
        "or no orders in the last 365 days): every day is the mean of the days seen."),
})


@strawberry.type(description="Units customers ordered on one day (back-ordered ones included).")
class DemandDay:
    day: date = strawberry.field(name="date", description="The day (UTC).")
    units: int = strawberry.field(description="Units ordered that day; 0 for none.")


@strawberry.type(description="A range one day's demand falls in with a given chance (normal "
                 "errors), cut at zero.")
class PredictionInterval:
    level: float = strawberry.field(
        description="The chance the day's units fall inside: 0.8 or 0.95.")
    low: float = strawberry.field(description="The lower bound in units, at least 0.")
    high: float = strawberry.field(description="The upper bound in units.")


@strawberry.type(description="The forecast demand of one day.")
class ForecastDay:
    day: date = strawberry.field(name="date", description="The day (UTC).")
    units: float = strawberry.field(
        description="Expected units ordered that day (not rounded), at least 0.")
    standard_deviation: float = strawberry.field(
        description="Standard deviation of this day's forecast error, in units (grows with "
        "the distance from today).")
    intervals: list[PredictionInterval] = strawberry.field(
        description="The 80% and 95% prediction intervals, in that order.")


def _day(day: forecasting.DayForecast) -> ForecastDay:
    return ForecastDay(day=day.day, units=day.mean, standard_deviation=day.sd,
                       intervals=[PredictionInterval(level=i.level, low=i.low, high=i.high)
                                  for i in day.intervals])


@strawberry.type(description="Staff: a product's daily demand forecast, from the units "
                 "customers ordered per day (back-ordered ones included).")
class DemandForecast:
    product: Product = strawberry.field(description="The product.")
    method: ForecastMethod = strawberry.field(  # type: ignore[valid-type]
        description="How it was made; MEAN_FALLBACK when the history is too short.")
    reason: str = strawberry.field(
        description="Why this method, in words (e.g. how many days the history has).")
    history_from: date | None = strawberry.field(
        description="The history's first day: the first day with an order in the last 365 "
        "days; null with none.")
    history_to: date = strawberry.field(
        description="The history's last day: yesterday (UTC). Today is not used, its orders "
        "are not all in.")
    history: list[DemandDay] = strawberry.field(
        description="Units ordered per day from `historyFrom` to `historyTo`, every day "
        "(zeros included); empty with no history.")
    sigma_daily: float = strawberry.field(
        description="Standard deviation of a one-day forecast error, in units (for "
        "MEAN_FALLBACK: of one day's demand, at least the square root of the mean).")
    alpha: float | None = strawberry.field(
        description="Holt-Winters' level smoothing, 0 to 1; null for MEAN_FALLBACK.")
    beta: float | None = strawberry.field(
        description="Holt-Winters' trend smoothing, 0 to alpha; null for MEAN_FALLBACK.")
    gamma: float | None = strawberry.field(
        description="Holt-Winters' weekly-season smoothing, 0 to 1 - alpha; null for "
        "MEAN_FALLBACK.")
    days: list[ForecastDay] = strawberry.field(
        description="One per day from today (UTC), as many as asked for.")


def _forecast(found: forecast.ProductForecast) -> DemandForecast:
    fc = found.forecast
    first = fc.history_first
    return DemandForecast(
        product=found.product,  # type: ignore[arg-type]
        method=fc.method, reason=fc.reason, history_from=first, history_to=found.history_last,
        history=[] if first is None else [
            DemandDay(day=first + timedelta(days=i), units=n)
            for i, n in enumerate(fc.history)],
        sigma_daily=fc.sigma,
        alpha=fc.smoothing.alpha if fc.smoothing else None,
        beta=fc.smoothing.beta if fc.smoothing else None,
        gamma=fc.smoothing.gamma if fc.smoothing else None,
        days=[_day(d) for d in fc.days])


@strawberry.type(description=(
    "Staff: how many units of a product to order now, and why. quantity = max(0, ceil("
    "leadTimeDemand + safetyStock + openBackorderedUnits - availableUnits - "
    "scheduledRestockUnits))."))
class ReorderSuggestion:
    product: Product = strawberry.field(description="The product.")
    lead_time_days: int = strawberry.field(
        description="Days an order placed today takes to come (the product's `leadTimeDays`).")
    lead_time_demand: float = strawberry.field(
        description="Forecast units ordered over those days, today included (the sum of the "
        "daily forecast's expected units).")
    forecast_method: ForecastMethod = strawberry.field(  # type: ignore[valid-type]
        description="How that forecast was made.")
    forecast_reason: str = strawberry.field(description="Why that method, in words.")
    service_level: float = strawberry.field(
        description="The chance aimed for that stock covers the lead time's demand "
        "(the argument, else the shop's setting).")
    z: float = strawberry.field(
        description="The standard normal quantile of the service level.")
    sigma_daily: float = strawberry.field(
        description="Standard deviation of one day's forecast error, in units.")
    safety_stock: float = strawberry.field(
        description="z * sigmaDaily * sqrt(leadTimeDays), in units.")
    open_backordered_units: int = strawberry.field(
        description="Units of open back orders not allocated yet: owed to customers.")
    available_units: int = strawberry.field(
        description="Units on hand not allocated to anyone.")
    scheduled_restock_units: int = strawberry.field(
        description="Units still expected from open restocks due on or before "
        "`restocksUntil` (overdue ones included).")
    restocks_until: date = strawberry.field(
        description="Today plus the lead time: the last expected date of a counted restock.")
    net_requirement: float = strawberry.field(
        description="The sum of the terms, unrounded; negative when enough is on hand or "
        "coming.")
    quantity: int = strawberry.field(
        description="Units to order now: the net requirement rounded up, 0 when it is not "
        "positive.")


def _reorder(found: forecast.ProductReorder) -> ReorderSuggestion:
    s = found.suggestion
    return ReorderSuggestion(
        product=found.product,  # type: ignore[arg-type]
        lead_time_days=s.lead_time_days, lead_time_demand=s.lead_time_demand,
        forecast_method=found.forecast.method, forecast_reason=found.forecast.reason,
        service_level=s.service_level, z=s.z, sigma_daily=s.sigma_daily,
        safety_stock=s.safety_stock, open_backordered_units=s.open_backordered_units,
        available_units=s.available_units, scheduled_restock_units=s.scheduled_restock_units,
        restocks_until=found.restocks_until, net_requirement=s.net_requirement,
        quantity=s.quantity)


@strawberry.type
class DemandQueries:
    @strawberry.field(description="Staff: the demand report over a window, for some "
                      "products or all (FORBIDDEN for others).")
    async def demand_report(
        self, info: Info,
        from_: Annotated[date, strawberry.argument(
            name="from", description="The first day (UTC) of the window.")],
        to: Annotated[date, strawberry.argument(
            description="The last day (UTC) of the window, included.")],
        bucket: Annotated[DemandBucket, strawberry.argument(  # type: ignore[valid-type]
            description="How `periods` cut the window.")] = Bucket.WEEK,
        skus: Annotated[list[str] | None, strawberry.argument(
            description="Only these products (one or more SKUs); every product when "
            "omitted.")] = None,
    ) -> DemandReport:
        query = await demand.demand_query(info.context.actor, from_, to, bucket, skus)
        return DemandReport(from_=query.window.first, to=query.window.last,
                            bucket=query.bucket, measured_at=query.now, query=query,
                            currency=info.context.settings.currency)

    @strawberry.field(description="Staff: a product's daily demand for the next days, with "
                      "80% and 95% prediction intervals (FORBIDDEN for others; NOT_FOUND for "
                      "an unknown SKU; INVALID_INPUT for days outside 1 to 365).")
    async def demand_forecast(
        self, info: Info,
        sku: Annotated[str, strawberry.argument(description="The product's SKU.")],
        days: Annotated[int, strawberry.argument(
            description="How many days from today (UTC), 1 to 365.")] = 28,
    ) -> DemandForecast:
        return _forecast(await forecast.demand_forecast(info.context.actor, sku, days))

    @strawberry.field(description="Staff: how many units of a product to order now, every "
                      "term shown (FORBIDDEN for others; NOT_FOUND for an unknown SKU; "
                      "INVALID_INPUT for a service level not above 0.5 and below 0.999).")
    async def reorder_suggestion(
        self, info: Info,
        sku: Annotated[str, strawberry.argument(description="The product's SKU.")],
        service_level: Annotated[float | None, strawberry.argument(
            description="The chance aimed for that stock covers the lead time's demand, "
            "above 0.5 and below 0.999; the shop's setting when omitted.")] = None,
    ) -> ReorderSuggestion:
        level = (info.context.settings.reorder_service_level if service_level is None
                 else service_level)
        return _reorder(await forecast.reorder_suggestion(info.context.actor, sku, level))


@strawberry.type(description="A customer's verdict on how long a back order took.")
class WaitRating:
    rating: int = strawberry.field(description="1 (worst) to 5 (best).")
    comment: str = strawberry.field(description="What the customer wrote; may be empty.")
    created_at: datetime = strawberry.field(description="When it was given.")


@strawberry.type(description="The rating was recorded.")
class RateWaitPayload:
    wait_rating: WaitRating = strawberry.field(description="The rating as stored.")


RateWaitResult = Annotated[
    InvalidInputError | NotFoundError | ForbiddenError | InvalidTransitionError
    | RateWaitPayload,
    strawberry.union("RateWaitResult", description=(
        "The rating, or why not: INVALID_TRANSITION when the back order has not shipped "
        "(fromStatus its status) or was rated before (fromStatus RATED); NOT_FOUND for "
        "another customer's."))]


@strawberry.type
class DemandMutations:
    @strawberry.mutation(description="The owner of a shipped back order rates the wait, once "
                         "(the shipped message links here).")
    async def rate_wait(
        self, info: Info,
        back_order_id: Annotated[strawberry.ID, strawberry.argument(
            description="The shipped back order.")],
        rating: Annotated[int, strawberry.argument(description="1 (worst) to 5 (best).")],
        comment: Annotated[str, strawberry.argument(
            description="Optional words on the wait, at most 1000 characters.")] = "",
    ) -> RateWaitResult:
        row = await ratings.rate_wait(info.context.actor,
                                      validation.row_id(str(back_order_id), "backOrderId"),
                                      rating, comment)
        return RateWaitPayload(wait_rating=row)  # type: ignore[arg-type]
