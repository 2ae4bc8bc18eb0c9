"""How many units to order now: a buyer's reorder suggestion, every term shown.

    net = lead-time demand + safety stock + open back-ordered units
          - available units - scheduled restock units due within the lead time
    safety stock = z(service level) * sigma_daily * sqrt(lead time days)
    quantity = ceil(net) when net > 0, else 0

Lead-time demand is the forecast's expected units over the days an order placed today takes
to come (``api.domain.forecast``); sigma_daily the standard deviation of one day's forecast
error; z the standard normal quantile of the service level (the chance that the stock on
hand when the order arrives covers the lead time's demand).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from api.domain.errors import InvalidInput

MIN_SERVICE_LEVEL = 0.5
MAX_SERVICE_LEVEL = 0.999
"""A service level lies strictly between these."""


def service_level(value: float, field: str = "serviceLevel") -> float:
    if not (math.isfinite(value) and MIN_SERVICE_LEVEL < value < MAX_SERVICE_LEVEL):
        raise InvalidInput(field, f"must be above {MIN_SERVICE_LEVEL} and below "
                           f"{MAX_SERVICE_LEVEL}")
    return value


@dataclass(frozen=True)
class ReorderSuggestion:
    lead_time_days: int
    lead_time_demand: float
    service_level: float
    z: float
    sigma_daily: float
    safety_stock: float
    open_backordered_units: int
    available_units: int
    scheduled_restock_units: int
    net_requirement: float
    """The sum of the terms (may be negative: enough is on hand or coming)."""
    quantity: int
    """Units to order: the net requirement rounded up, never negative."""


def safety_stock(level: float, sigma_daily: float, lead_time_days: int) -> tuple[float, float]:
    """(z, safety stock)."""
    z = statistics.NormalDist().inv_cdf(level)
    return z, z * sigma_daily * math.sqrt(lead_time_days)


def suggest(*, lead_time_days: int, lead_time_demand: float, sigma_daily: float,
            level: float, open_backordered_units: int, available_units: int,
            scheduled_restock_units: int) -> ReorderSuggestion:
    z, safety = safety_stock(service_level(level), sigma_daily, lead_time_days)
    net = (lead_time_demand + safety + open_backordered_units - available_units
           - scheduled_restock_units)
    # Rounded to a millionth first, so float dust (3.0000000001) does not ask for one more.
    quantity = max(math.ceil(round(net, 6)), 0)
    return ReorderSuggestion(lead_time_days, lead_time_demand, level, z, sigma_daily, safety,
                             open_backordered_units, available_units, scheduled_restock_units,
                             net, quantity)
