"""The demand forecast's pure rules: Holt-Winters on synthetic series of known level, trend
and weekly season; the mean fallback on a short history; the daily series' zero days."""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain import forecast as f
from api.domain.errors import InvalidInput

LEVEL, TREND = 20.0, 0.05
SEASON = (0.0, 2.0, 4.0, 3.0, 1.0, -4.0, -6.0)
NOISE = 1.5
FIRST = date(2025, 1, 6)


def truth(t: int) -> float:
    return LEVEL + TREND * t + SEASON[t % 7]


def synthetic(n: int, seed: int) -> list[int]:
    """Whole units: the true curve plus normal noise (sd 1.5), fixed seed."""
    rng = random.Random(seed)
    return [max(0, round(truth(t) + rng.gauss(0, NOISE))) for t in range(n)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_holt_winters_finds_the_level_trend_and_season_of_a_known_series(seed: int) -> None:
    # Given a year of history and four weeks held out
    series = synthetic(365 + 28, seed)
    history, held_out = series[:365], series[365:]
    start = FIRST + timedelta(days=365)
    # When
    found = f.forecast(FIRST, history, start, 28)
    # Then: Holt-Winters, each day within 1 unit (2/3 of the noise's sd) of the true curve
    assert found.method is f.Method.HOLT_WINTERS and found.smoothing is not None
    assert [d.day for d in found.days] == [start + timedelta(days=i) for i in range(28)]
    errors = [abs(d.mean - truth(365 + i)) for i, d in enumerate(found.days)]
    assert max(errors) < 1.0
    # the season's shape is there: the forecast's weekday means differ as the truth's do
    week = [d.mean for d in found.days[:7]]
    assert week.index(max(week)) == [truth(365 + i) for i in range(7)].index(
        max(truth(365 + i) for i in range(7)))
    # sigma is the noise's (rounding adds ~1/12): within 25%
    assert found.sigma == pytest.approx((NOISE**2 + 1 / 12) ** 0.5, rel=0.25)
    # the 95% interval covers at least 25 of the 28 held-out days, the 80% at least 18
    cover95 = sum(d.intervals[1].low <= y <= d.intervals[1].high
                  for d, y in zip(found.days, held_out, strict=True))
    cover80 = sum(d.intervals[0].low <= y <= d.intervals[0].high
                  for d, y in zip(found.days, held_out, strict=True))
    assert cover95 >= 25 and cover80 >= 18


def test_the_intervals_widen_with_the_horizon_and_nest() -> None:
    found = f.forecast(FIRST, synthetic(120, 5), FIRST + timedelta(days=120), 60)
    sds = [d.sd for d in found.days]
    assert sds == sorted(sds) and sds[-1] > sds[0]
    for d in found.days:
        i80, i95 = d.intervals
        assert (i80.level, i95.level) == (0.8, 0.95)
        assert 0 <= i95.low <= i80.low <= d.mean <= i80.high <= i95.high


def test_a_falling_trend_never_forecasts_negative_demand() -> None:
    history = [max(0, 40 - t) for t in range(30)]
    found = f.forecast(FIRST, history, FIRST + timedelta(days=30), 30)
    assert found.method is f.Method.HOLT_WINTERS
    assert all(d.mean >= 0 and d.intervals[1].low >= 0 for d in found.days)
    assert found.days[-1].mean == 0


def test_a_short_history_falls_back_to_the_mean_with_a_reason() -> None:
    # Given 13 days (one short of two full weeks)
    history = [3, 0, 5, 2, 4, 0, 1, 6, 2, 3, 0, 4, 2]
    found = f.forecast(FIRST, history, FIRST + timedelta(days=13), 5)
    assert found.method is f.Method.MEAN_FALLBACK and found.smoothing is None
    assert "only 13 days" in found.reason and "14" in found.reason
    mean = sum(history) / 13
    spread = statistics.stdev(history)
    assert found.sigma == pytest.approx(max(spread, mean**0.5))
    for d in found.days:
        assert d.mean == pytest.approx(mean)
        assert d.sd == pytest.approx(found.sigma * (1 + 1 / 13) ** 0.5)
        assert d.intervals[1].high == pytest.approx(mean + 1.959964 * d.sd, rel=1e-6)
        assert d.intervals[1].low == pytest.approx(max(0.0, mean - 1.959964 * d.sd),
                                                   abs=1e-5)


def test_fourteen_days_are_enough_for_holt_winters() -> None:
    found = f.forecast(FIRST, synthetic(14, 9), FIRST + timedelta(days=14), 3)
    assert found.method is f.Method.HOLT_WINTERS


def test_one_day_of_history_has_the_poisson_spread() -> None:
    found = f.forecast(FIRST, [4], FIRST + timedelta(days=1), 2)
    assert found.method is f.Method.MEAN_FALLBACK
    assert (found.days[0].mean, found.sigma) == (4.0, 2.0)
    assert found.days[0].sd == pytest.approx(2.0 * 2**0.5)


def test_no_history_forecasts_zero() -> None:
    found = f.forecast(None, (), FIRST, 3)
    assert found.method is f.Method.MEAN_FALLBACK and "no orders" in found.reason
    assert [(d.mean, d.intervals[1].high) for d in found.days] == [(0.0, 0.0)] * 3


@pytest.mark.parametrize("days", [0, 366, -1])
def test_a_horizon_outside_1_to_365_is_invalid(days: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        f.horizon(days)
    assert raised.value.field == "days"


def test_the_series_starts_at_the_first_order_and_fills_zero_days() -> None:
    first, last = date(2026, 1, 1), date(2026, 1, 10)
    units = {date(2026, 1, 3): 2, date(2026, 1, 6): 5, date(2025, 12, 31): 9}
    assert f.daily_series(first, last, units) == (
        date(2026, 1, 3), (2, 0, 0, 5, 0, 0, 0, 0))
    assert f.daily_series(first, last, {}) == (None, ())


@given(st.dictionaries(st.dates(date(2026, 1, 1), date(2026, 3, 1)), st.integers(0, 50)))
def test_the_series_keeps_every_unit_in_the_window(units: dict[date, int]) -> None:
    start, series = f.daily_series(date(2026, 1, 1), date(2026, 3, 1), units)
    assert sum(series) == sum(units.values())
    if start is not None:
        assert series[0] > 0 and start + timedelta(days=len(series) - 1) == date(2026, 3, 1)


def test_the_history_window_is_the_last_year_to_yesterday() -> None:
    assert f.history_window(date(2026, 12, 3)) == (date(2025, 12, 3), date(2026, 12, 2))
