"""What a storefront shows for a product."""

from __future__ import annotations

from datetime import date

from api.domain.allocation import orderable_units
from api.domain.model import Availability, Policy, Stock


def availability(stock: Stock, policy: Policy, discontinued: bool, today: date) -> Availability:
    if orderable_units(stock, policy, discontinued, today) <= 0:
        return Availability.OUT_OF_STOCK
    if policy.is_preorder(today):
        return Availability.PREORDER
    free = stock.available if stock.waiting == 0 else 0
    if free <= 0:
        return Availability.BACKORDERABLE
    if free <= policy.low_stock_threshold:
        return Availability.LOW_STOCK
    return Availability.IN_STOCK
