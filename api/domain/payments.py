"""When back-ordered units are paid for, as rules (issue 15, part 2).

A product's terms say what is taken when a unit is back-ordered (or pre-ordered):

- ``IN_FULL``: everything at order (the default, and what units in stock always cost);
- ``DEPOSIT``: a deposit at order (an amount, or a percent of the back order), the rest as
  its units are set aside;
- ``ON_RELEASE``: nothing is taken at order; the whole amount is *authorized* (held on the
  customer's card) and captured as its units are set aside (a pre-order's at its release).

The one rule after the order: **the units set aside are paid for**. Each time a back order is
given units, what it owes is the price of its units set aside less what was taken; that is
captured from its authorization while one holds money, and charged otherwise. A fully set
aside back order has paid its whole price, whatever its terms.

Amounts and states only: no payment provider is called. An authorization holds money for a
while (``BACKORDERS_AUTHORIZATION_VALID_DAYS``); it is flagged a notice before it lapses
(its customer is told, staff see the list) and renewed by staff, or lapses (then what is
owed is charged when the units are set aside). A cancellation refunds what was taken for
units that did not ship and voids what was held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from api.domain.errors import InvalidInput
from api.domain.model import PaymentMode

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PaymentTerms:
    """A product's payment terms for back-ordered units."""

    mode: PaymentMode = PaymentMode.IN_FULL
    deposit_amount: Decimal | None = None
    """A deposit's fixed amount per back order (never more than the back order costs)."""
    deposit_percent: Decimal | None = None
    """A deposit's percent of what the back order costs (rounded to the cent)."""

    def __post_init__(self) -> None:
        amount, percent = self.deposit_amount, self.deposit_percent
        if self.mode is not PaymentMode.DEPOSIT:
            if amount is not None or percent is not None:
                raise InvalidInput("payment", "only a DEPOSIT has a deposit amount or percent")
            return
        if (amount is None) == (percent is None):
            raise InvalidInput("payment", "a DEPOSIT needs either an amount or a percent")
        if amount is not None and (amount <= 0 or amount != amount.quantize(CENT)):
            raise InvalidInput("payment.depositAmount", "must be more than zero, in cents")
        if percent is not None and not 0 < percent < 100:
            raise InvalidInput("payment.depositPercent", "must be more than 0 and less than 100")

    def deposit(self, cost: Decimal) -> Decimal:
        """The deposit of a back order that costs ``cost`` (more than zero): at least a cent,
        never more than the cost."""
        if self.deposit_amount is not None:
            return min(self.deposit_amount, cost)
        assert self.deposit_percent is not None
        share = (cost * self.deposit_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return min(max(share, CENT), cost)


@dataclass(frozen=True)
class AtOrder:
    """What a new back order takes: ``charged`` now, ``authorized`` held for later."""

    charged: Decimal
    authorized: Decimal


def at_order(terms: PaymentTerms, cost: Decimal) -> AtOrder:
    """What a back order that costs ``cost`` takes when it is placed."""
    if cost <= 0:
        return AtOrder(ZERO, ZERO)
    match terms.mode:
        case PaymentMode.IN_FULL:
            return AtOrder(cost, ZERO)
        case PaymentMode.DEPOSIT:
            return AtOrder(terms.deposit(cost), ZERO)
        case PaymentMode.ON_RELEASE:
            return AtOrder(ZERO, cost)


@dataclass(frozen=True)
class Taking:
    """What a back order given units pays now: ``captured`` from its authorization,
    ``charged`` anew (when no authorization holds enough)."""

    captured: Decimal
    charged: Decimal

    @property
    def total(self) -> Decimal:
        return self.captured + self.charged


def on_allocation(unit_price: Decimal, allocated: int, paid: Decimal,
                  authorized: Decimal) -> Taking:
    """What a back order with ``allocated`` units set aside pays now, having paid ``paid``
    and holding ``authorized``: its units set aside are paid for."""
    due = max(unit_price * allocated - paid, ZERO)
    captured = min(due, authorized)
    return Taking(captured, due - captured)


@dataclass(frozen=True)
class Cancellation:
    refunded: Decimal
    """What was taken for units that did not ship."""
    voided: Decimal
    """What was held and not taken."""


def on_cancellation(unit_price: Decimal, shipped: int, paid: Decimal,
                    authorized: Decimal) -> Cancellation:
    """A cancelled back order gives back what it paid for units that did not ship (the
    shipped ones were paid for: see ``on_allocation``) and releases what it held."""
    return Cancellation(max(paid - unit_price * shipped, ZERO), authorized)


def valid_until(authorized_at: datetime, valid_days: int) -> datetime:
    return authorized_at + timedelta(days=valid_days)


def notice_due(until: datetime, now: datetime, notice: timedelta) -> bool:
    """An open authorization is flagged this long before it lapses."""
    return now >= until - notice


def lapsed(until: datetime, now: datetime) -> bool:
    return now >= until


@dataclass(frozen=True)
class AuthorizationPolicy:
    """How long an authorization holds money, and how long before it lapses it is flagged
    (its customer told, staff's list)."""

    valid_days: int = 7
    notice_hours: int = 24

    def __post_init__(self) -> None:
        if self.valid_days < 1:
            raise ValueError("an authorization is valid for a day or more")
        if not 0 <= self.notice_hours < self.valid_days * 24:
            raise ValueError("the notice must be shorter than the validity")

    @property
    def notice(self) -> timedelta:
        return timedelta(hours=self.notice_hours)
