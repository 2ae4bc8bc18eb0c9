"""Charges, refunds and the cash taken ahead of stock."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.money import Paid, cash_ahead_of_stock, charge

PROPERTY = settings(max_examples=200, deadline=None)

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@st.composite
def paid(draw: st.DrawFn) -> Paid:
    """A back order paid in full at order (IN_FULL), some of it set aside."""
    quantity = draw(st.integers(1, 50))
    price = draw(prices)
    return Paid(price, draw(st.integers(0, quantity)), price * quantity)


def test_a_charge_is_the_price_times_the_units() -> None:
    assert charge(Decimal("19.99"), 3) == Decimal("59.97")


def test_no_queue_holds_no_cash() -> None:
    assert cash_ahead_of_stock([]) == Decimal(0)


def test_allocated_units_are_not_ahead_of_stock() -> None:
    queued = [Paid(Decimal("10.00"), 1, Decimal("30.00")), Paid(Decimal("2.50"), 0,
                                                              Decimal("5.00"))]

    assert cash_ahead_of_stock(queued) == Decimal("25.00")


def test_a_deposit_is_ahead_of_stock_until_the_units_set_aside_are_worth_more() -> None:
    assert cash_ahead_of_stock([Paid(Decimal("10.00"), 0, Decimal("3.00"))]) == Decimal("3.00")
    assert cash_ahead_of_stock([Paid(Decimal("10.00"), 1, Decimal("10.00"))]) == Decimal(0)


def test_what_an_authorization_only_holds_is_not_cash() -> None:
    assert cash_ahead_of_stock([Paid(Decimal("10.00"), 0, Decimal(0))]) == Decimal(0)


@PROPERTY
@given(st.lists(paid(), max_size=10))
def test_cash_ahead_of_stock_is_at_most_what_was_charged(queued: list[Paid]) -> None:
    charged = sum((p.paid for p in queued), Decimal(0))

    assert Decimal(0) <= cash_ahead_of_stock(queued) <= charged


@PROPERTY
@given(st.lists(paid(), max_size=10))
def test_a_queue_with_nothing_allocated_holds_all_it_was_charged(queued: list[Paid]) -> None:
    waiting = [Paid(p.unit_price, 0, p.paid) for p in queued]
    allocated = [Paid(p.unit_price, int(p.paid / p.unit_price), p.paid) for p in queued]

    assert cash_ahead_of_stock(waiting) == sum((p.paid for p in queued), Decimal(0))
    assert cash_ahead_of_stock(allocated) == Decimal(0)


@PROPERTY
@given(st.lists(paid(), max_size=10), st.lists(paid(), max_size=10))
def test_cash_ahead_of_stock_adds_up_over_parts_of_the_queue(
    head: list[Paid], rest: list[Paid]
) -> None:
    assert cash_ahead_of_stock(head + rest) == cash_ahead_of_stock(head) + cash_ahead_of_stock(rest)
