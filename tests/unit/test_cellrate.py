"""The in-process rate limit (api/domain/cellrate.py): its promises, over generated hits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain.cellrate import CellRate

RATES = st.tuples(st.integers(1, 50), st.floats(0.5, 120))
GAPS = st.lists(st.floats(0, 5), min_size=1, max_size=300)


def _times(gaps: list[float]) -> list[float]:
    now, times = 1000.0, []
    for gap in gaps:
        now += gap
        times.append(now)
    return times


@given(RATES, GAPS)
def test_no_span_lets_more_through_than_the_burst_and_the_rate(
        rate: tuple[int, float], gaps: list[float]) -> None:
    amount, period = rate
    limit = CellRate(amount, period)
    allowed = [t for t in _times(gaps) if limit.hit("a", t) is None]
    for i, start in enumerate(allowed):
        for j in range(i, len(allowed)):
            span = allowed[j] - start
            assert j - i + 1 <= amount + span * amount / period + 1e-6


@given(RATES, st.integers(1, 200))
def test_a_client_at_the_rate_is_never_refused(rate: tuple[int, float], hits: int) -> None:
    amount, period = rate
    limit = CellRate(amount, period)
    assert all(limit.hit("a", 1000.0 + n * period / amount) is None for n in range(hits))


@given(RATES, GAPS)
def test_a_refusal_says_how_long_to_wait_and_changes_nothing(
        rate: tuple[int, float], gaps: list[float]) -> None:
    amount, period = rate
    limit = CellRate(amount, period)
    for t in _times(gaps):
        before = dict(limit._theoretical)
        wait = limit.hit("a", t)
        if wait is not None:
            assert 0 < wait <= period and limit._theoretical == before
            assert limit.hit("a", t + wait - 1e-6) is not None
            twin = CellRate(amount, period)
            twin._theoretical = dict(before)
            assert twin.hit("a", t + wait + 1e-9) is None


def test_a_burst_of_the_amount_then_one_per_interval() -> None:
    limit = CellRate(3, 60)
    assert [limit.hit("a", 0.0) for _ in range(3)] == [None, None, None]
    assert limit.hit("a", 0.0) == pytest.approx(20.0)
    assert limit.hit("b", 0.0) is None  # per key
    assert limit.hit("a", 20.0) is None and limit.hit("a", 20.0) is not None


def test_a_flood_of_keys_does_not_grow_the_table_past_its_bound() -> None:
    limit = CellRate(1, 10, max_keys=100)
    for n in range(1_000):
        limit.hit(f"k{n}", n * 0.001)  # all within one period: none is forgotten early
    assert len(limit) <= 100
    limit.hit("late", 100.0)  # every allowance is back: the old keys go first
    assert len(limit) <= 100


def test_a_rate_must_let_something_through() -> None:
    with pytest.raises(ValueError):
        CellRate(0, 60)
