"""The rules of the shop's promises (api/domain/promises.py): cancel-by dates, delay offers
and compensation, with hypothesis properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.errors import InvalidInput
from api.domain.model import OPEN_STATUSES, Status
from api.domain.promises import (
    CANCEL_BY_HORIZON_DAYS,
    Compensation,
    cancel_by_due,
    check_cancel_by,
    compensation_cutoff,
    compensation_due,
    compensation_for,
    delay_offer_open,
)

TODAY = date(2026, 3, 10)
PROPERTY = settings(max_examples=300, deadline=None)
days = st.integers(min_value=-800, max_value=800)
statuses = st.sampled_from(list(Status))
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
percents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)
policies = st.one_of(
    st.builds(Compensation, st.integers(0, 365), amount=money),
    st.builds(Compensation, st.integers(0, 365), percent=percents),
)


@PROPERTY
@given(days, statuses, days)
def test_cancel_by_is_due_only_after_its_day_and_only_while_open(
        offset: int, status: Status, later: int) -> None:
    cancel_by = TODAY + timedelta(days=offset)
    due = cancel_by_due(cancel_by, status, TODAY)
    assert due == (status in OPEN_STATUSES and TODAY > cancel_by)
    # Once due it stays due (for an open back order) as days pass.
    if due:
        assert cancel_by_due(cancel_by, status, TODAY + timedelta(days=abs(later)))
    assert not cancel_by_due(None, status, TODAY)


@PROPERTY
@given(days)
def test_a_cancel_by_date_is_today_or_later_within_the_horizon(offset: int) -> None:
    value = TODAY + timedelta(days=offset)
    if 0 <= offset <= CANCEL_BY_HORIZON_DAYS:
        assert check_cancel_by(value, TODAY) == value
        # A date accepted today is not due today: it cancels from the next day on.
        assert not cancel_by_due(value, Status.WAITING, TODAY)
    else:
        with pytest.raises(InvalidInput) as refused:
            check_cancel_by(value, TODAY)
        assert refused.value.field == "cancelBy"


AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
moments = st.one_of(st.none(), st.integers(-1000, 1000).map(lambda m: AT + timedelta(minutes=m)))


@PROPERTY
@given(st.booleans(), moments, moments)
def test_a_delay_offer_is_open_until_answered_and_a_new_delay_opens_another(
        delayed: bool, offered: datetime | None, accepted: datetime | None) -> None:
    open_ = delay_offer_open(delayed, offered, accepted)
    if not delayed or offered is None:
        assert not open_
    elif accepted is None:
        assert open_
    else:
        assert open_ == (accepted < offered)
    # Answering now closes it; a later offer opens it again.
    if delayed and offered is not None:
        now = max(offered, accepted or offered)
        assert not delay_offer_open(True, offered, now)
        assert delay_offer_open(True, now + timedelta(seconds=1), now)


@PROPERTY
@given(policies, money)
def test_a_credit_is_positive_never_more_than_was_paid_and_in_cents(
        policy: Compensation, paid: Decimal) -> None:
    credit = policy.credit(paid)
    assert Decimal("0.01") <= credit <= paid
    assert credit == credit.quantize(Decimal("0.01"))
    if policy.amount is not None:
        assert credit == min(policy.amount, paid)
    else:
        assert policy.percent is not None
        exact = paid * policy.percent / 100
        assert abs(credit - exact) <= Decimal("0.005") or credit == Decimal("0.01")


@PROPERTY
@given(policies, days, statuses, st.booleans(), st.one_of(st.just(Decimal(0)), money),
       st.integers(0, 400))
def test_compensation_is_due_at_most_once_only_when_open_paid_and_late_enough(
        policy: Compensation, offset: int, status: Status, compensated: bool,
        paid: Decimal, later: int) -> None:
    promised = TODAY + timedelta(days=offset)
    due = compensation_due(policy, promised, status, compensated, paid, TODAY)
    late = (TODAY - promised).days
    assert due == (not compensated and status in OPEN_STATUSES and paid > 0
                   and late > policy.after_days)
    # Given once (compensated), never again, however late it gets.
    assert not compensation_due(policy, promised, status, True, paid,
                                TODAY + timedelta(days=later))
    # The query form (promised before the cutoff, paid) picks out the same back orders.
    if not compensated and status in OPEN_STATUSES:
        assert due == (promised < compensation_cutoff(policy, TODAY) and paid > 0)
    assert not compensation_due(None, promised, status, compensated, paid, TODAY)


@PROPERTY
@given(st.one_of(st.none(), policies), st.one_of(st.none(), policies))
def test_a_products_policy_wins_over_the_shops(product: Compensation | None,
                                                shop: Compensation | None) -> None:
    assert compensation_for(product, shop) == (product if product is not None else shop)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"after_days": -1, "amount": Decimal(1)}, "compensation.afterDays"),
    ({"after_days": 366, "amount": Decimal(1)}, "compensation.afterDays"),
    ({"after_days": 3}, "compensation"),
    ({"after_days": 3, "amount": Decimal(1), "percent": Decimal(5)}, "compensation"),
    ({"after_days": 3, "amount": Decimal(0)}, "compensation.amount"),
    ({"after_days": 3, "amount": Decimal("1.005")}, "compensation.amount"),
    ({"after_days": 3, "percent": Decimal(0)}, "compensation.percent"),
    ({"after_days": 3, "percent": Decimal("100.01")}, "compensation.percent"),
])
def test_a_bad_compensation_policy_names_its_field(kwargs: dict[str, object],
                                                   field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Compensation(**kwargs)  # type: ignore[arg-type]
    assert refused.value.field == field
