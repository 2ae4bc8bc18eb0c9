"""The shop's promises to a waiting customer, as rules: a cancel-by date the customer sets, the
answer to a delay offer, and the credit owed when a back order is late by more than the
shop's patience (issue 16, parts 2 to 4). Dates are UTC days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from api.domain.errors import InvalidInput
from api.domain.model import OPEN_STATUSES, Status

CANCEL_BY_HORIZON_DAYS = 730
"""A cancel-by date may be at most this far ahead (two years)."""


def check_cancel_by(value: date, today: date, field: str = "cancelBy") -> date:
    """A cancel-by date is today or later (it cancels from the next day on) and within the
    horizon."""
    if value < today:
        raise InvalidInput(field, f"must be today ({today.isoformat()}) or later")
    if value > today + timedelta(days=CANCEL_BY_HORIZON_DAYS):
        raise InvalidInput(field, f"must be within {CANCEL_BY_HORIZON_DAYS} days")
    return value


def cancel_by_due(cancel_by: date | None, status: Status, today: date) -> bool:
    """A back order not shipped by the end of its cancel-by day cancels itself."""
    return cancel_by is not None and status in OPEN_STATUSES and today > cancel_by


def delay_offer_open(delayed: bool, offered_at: datetime | None,
                     accepted_at: datetime | None) -> bool:
    """A delayed back order's offer (keep waiting or cancel) is open until it is answered;
    an answer covers the offer it answered, not a later one."""
    if not delayed or offered_at is None:
        return False
    return accepted_at is None or accepted_at < offered_at


CENT = Decimal("0.01")
PERCENT_RANGE = (Decimal(0), Decimal(100))
AFTER_DAYS_RANGE = (0, 365)


@dataclass(frozen=True)
class Compensation:
    """What a late back order earns: ``amount`` (a fixed credit) or ``percent`` of what was
    paid for it, once it is more than ``after_days`` past its promised date and not shipped."""

    after_days: int
    amount: Decimal | None = None
    percent: Decimal | None = None

    def __post_init__(self) -> None:
        low, high = AFTER_DAYS_RANGE
        if not low <= self.after_days <= high:
            raise InvalidInput("compensation.afterDays", f"must be between {low} and {high}")
        if (self.amount is None) == (self.percent is None):
            raise InvalidInput("compensation", "give either an amount or a percent")
        if self.amount is not None and (self.amount <= 0 or self.amount != self.amount.quantize(
                CENT)):
            raise InvalidInput("compensation.amount", "must be positive, in cents")
        if self.percent is not None and not (
                PERCENT_RANGE[0] < self.percent <= PERCENT_RANGE[1]):
            raise InvalidInput("compensation.percent", "must be more than 0 and at most 100")

    def credit(self, paid: Decimal) -> Decimal:
        """The credit for a back order that cost ``paid`` (more than zero): never more than
        was paid, and at least a cent."""
        if self.amount is not None:
            return min(self.amount, paid)
        assert self.percent is not None
        share = (paid * self.percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return min(max(share, CENT), paid)


def compensation_for(product: Compensation | None, shop: Compensation | None
                     ) -> Compensation | None:
    """A product's own policy wins over the shop's."""
    return product if product is not None else shop


def compensation_due(policy: Compensation | None, promised: date, status: Status,
                     compensated: bool, paid: Decimal, today: date) -> bool:
    """Owed at most once, to an open back order that was paid for, late by more than the
    policy's days."""
    if policy is None or compensated or status not in OPEN_STATUSES or paid <= 0:
        return False
    return (today - promised).days > policy.after_days


def compensation_cutoff(policy: Compensation, today: date) -> date:
    """Back orders promised before this day are late enough (the query form of the rule)."""
    return today - timedelta(days=policy.after_days)
