"""Money: what an order line is charged, what a cancellation refunds, what waits for stock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


def charge(unit_price: Decimal, quantity: int) -> Decimal:
    """What ``quantity`` units cost at ``unit_price`` (no rounding: prices have two places)."""
    return unit_price * quantity


def cancellation_refund(unit_price: Decimal, quantity: int) -> Decimal:
    """A cancelled back order is refunded in full: every unit it was for, at the price it
    was charged, whatever part of it had been allocated."""
    return charge(unit_price, quantity)


@dataclass(frozen=True)
class Paid:
    """Units of one open back order, paid for and not yet allocated."""

    unit_price: Decimal
    quantity: int
    allocated: int


def cash_ahead_of_stock(queued: Iterable[Paid]) -> Decimal:
    """The money taken for units that are not in stock yet."""
    return sum((charge(p.unit_price, p.quantity - p.allocated) for p in queued), Decimal(0))
