"""Money: what units cost, and the cash taken ahead of stock (when what is taken:
``api/domain/payments.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


def charge(unit_price: Decimal, quantity: int) -> Decimal:
    """What ``quantity`` units cost at ``unit_price`` (no rounding: prices have two places)."""
    return unit_price * quantity


@dataclass(frozen=True)
class Paid:
    """One open back order: its unit price, units set aside, and what was taken for it."""

    unit_price: Decimal
    allocated: int
    paid: Decimal


def cash_ahead_of_stock(queued: Iterable[Paid]) -> Decimal:
    """The money taken for units that are not in stock yet (deposits count; what an
    authorization only holds does not)."""
    return sum((max(p.paid - charge(p.unit_price, p.allocated), Decimal(0)) for p in queued),
               Decimal(0))
