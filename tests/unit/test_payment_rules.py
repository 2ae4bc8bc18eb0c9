"""The payment rules (api/domain/payments.py): what a back order takes at order, as its units
are set aside, and on cancellation, under every payment mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.errors import InvalidInput
from api.domain.model import PaymentMode
from api.domain.payments import (
    CENT,
    AuthorizationPolicy,
    PaymentTerms,
    at_order,
    lapsed,
    notice_due,
    on_allocation,
    on_cancellation,
    valid_until,
)

PROPERTY = settings(max_examples=300, deadline=None)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@st.composite
def terms(draw: st.DrawFn) -> PaymentTerms:
    mode = draw(st.sampled_from(list(PaymentMode)))
    if mode is not PaymentMode.DEPOSIT:
        return PaymentTerms(mode)
    if draw(st.booleans()):
        return PaymentTerms(mode, deposit_amount=draw(prices))
    percent = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2))
    return PaymentTerms(mode, deposit_percent=percent)


@PROPERTY
@given(terms(), prices, st.integers(1, 40), st.lists(st.integers(0, 40), max_size=12),
       st.integers(0, 40), st.booleans())
def test_units_set_aside_are_paid_for_and_nothing_is_taken_twice(
    rule: PaymentTerms, price: Decimal, quantity: int, arrivals: list[int], shipped: int,
    lapses: bool,
) -> None:
    """Whatever the terms and the order units arrive in: what is taken never goes down,
    never passes the price, always covers the units set aside, is the whole price once all
    are; what is held plus what is taken never passes the price; a cancellation gives
    back exactly what was taken for units not shipped and releases what was held."""
    cost = price * quantity
    start = at_order(rule, cost)
    paid, held, allocated = start.charged, start.authorized, 0
    assert paid + held <= cost
    assert (paid, held) == {PaymentMode.IN_FULL: (cost, 0), PaymentMode.ON_RELEASE: (0, cost)
                            }.get(rule.mode, (paid, 0))
    if rule.mode is PaymentMode.DEPOSIT:
        assert CENT <= paid <= cost
    for units in arrivals:
        if lapses and allocated == 0:
            held = Decimal(0)  # the authorization lapsed before anything came
        allocated = min(quantity, allocated + units)
        taking = on_allocation(price, allocated, paid, held)
        assert taking.captured >= 0 and taking.charged >= 0
        assert taking.captured <= held
        paid, held = paid + taking.total, held - taking.captured
        assert price * allocated <= paid <= cost
        assert paid + held <= cost
        again = on_allocation(price, allocated, paid, held)
        assert again.total == 0  # the same units never pay twice
    if allocated == quantity:
        assert paid == cost
    gone = min(shipped, allocated)
    back = on_cancellation(price, gone, paid, held)
    assert back.refunded + price * gone == paid
    assert back.voided == held


def test_a_percent_deposit_rounds_to_the_cent_and_is_at_least_one() -> None:
    rule = PaymentTerms(PaymentMode.DEPOSIT, deposit_percent=Decimal("20"))
    assert rule.deposit(Decimal("89.99")) == Decimal("18.00")
    assert rule.deposit(Decimal("0.01")) == Decimal("0.01")
    assert PaymentTerms(PaymentMode.DEPOSIT, deposit_percent=Decimal("12.5")).deposit(
        Decimal("0.20")) == Decimal("0.03")  # 0.025 rounds half up


def test_a_fixed_deposit_is_never_more_than_the_back_order_costs() -> None:
    rule = PaymentTerms(PaymentMode.DEPOSIT, deposit_amount=Decimal("50.00"))
    assert at_order(rule, Decimal("30.00")).charged == Decimal("30.00")
    assert at_order(rule, Decimal("80.00")).charged == Decimal("50.00")


def test_a_partly_set_aside_back_order_pays_for_what_is_set_aside_after_its_deposit() -> None:
    # 3 x 10.00 with a 5.00 deposit: one unit (10.00) takes 5.00 more, the rest 20.00.
    first = on_allocation(Decimal("10.00"), 1, Decimal("5.00"), Decimal(0))
    assert (first.captured, first.charged) == (Decimal(0), Decimal("5.00"))
    rest = on_allocation(Decimal("10.00"), 3, Decimal("10.00"), Decimal(0))
    assert rest.charged == Decimal("20.00")


def test_on_release_captures_from_the_hold_and_charges_once_it_lapsed() -> None:
    held = on_allocation(Decimal("10.00"), 2, Decimal(0), Decimal("30.00"))
    assert (held.captured, held.charged) == (Decimal("20.00"), Decimal(0))
    gone = on_allocation(Decimal("10.00"), 2, Decimal(0), Decimal(0))
    assert (gone.captured, gone.charged) == (Decimal(0), Decimal("20.00"))


@pytest.mark.parametrize(("mode", "amount", "percent", "field"), [
    (PaymentMode.DEPOSIT, None, None, "payment"),
    (PaymentMode.DEPOSIT, Decimal("5"), Decimal("10"), "payment"),
    (PaymentMode.DEPOSIT, Decimal("0"), None, "payment.depositAmount"),
    (PaymentMode.DEPOSIT, Decimal("-1"), None, "payment.depositAmount"),
    (PaymentMode.DEPOSIT, Decimal("1.005"), None, "payment.depositAmount"),
    (PaymentMode.DEPOSIT, None, Decimal("0"), "payment.depositPercent"),
    (PaymentMode.DEPOSIT, None, Decimal("100"), "payment.depositPercent"),
    (PaymentMode.IN_FULL, Decimal("5"), None, "payment"),
    (PaymentMode.ON_RELEASE, None, Decimal("10"), "payment"),
])
def test_bad_terms_are_refused_with_the_field(mode: PaymentMode, amount: Decimal | None,
                                              percent: Decimal | None, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        PaymentTerms(mode, amount, percent)
    assert refused.value.field == field


def test_an_authorization_is_flagged_a_notice_before_it_lapses() -> None:
    policy = AuthorizationPolicy(valid_days=7, notice_hours=24)
    at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    until = valid_until(at, policy.valid_days)
    assert until == at + timedelta(days=7)
    assert not notice_due(until, until - timedelta(hours=24, seconds=1), policy.notice)
    assert notice_due(until, until - timedelta(hours=24), policy.notice)
    assert not lapsed(until, until - timedelta(seconds=1))
    assert lapsed(until, until)


@pytest.mark.parametrize(("days", "hours"), [(0, 0), (1, 24), (2, 100)])
def test_a_notice_as_long_as_the_validity_is_refused(days: int, hours: int) -> None:
    with pytest.raises(ValueError, match=r"day|notice"):
        AuthorizationPolicy(days, hours)
