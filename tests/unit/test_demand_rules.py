"""The demand report's pure rules: buckets tile the window, percentiles interpolate as
PostgreSQL's percentile_cont."""

from __future__ import annotations

import itertools
import statistics
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.domain.demand import Bucket, bucket_start, next_start, percentile_cont, periods

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
buckets = st.sampled_from(list(Bucket))


@given(days, st.integers(0, 400), buckets)
def test_periods_tile_the_window_without_gaps_or_overlaps(first: date, span: int,
                                                          bucket: Bucket) -> None:
    last = first + timedelta(days=span)
    found = periods(first, last, bucket)
    assert found[0].first == first and found[-1].last == last
    for before, after in itertools.pairwise(found):
        assert after.first == before.last + timedelta(days=1)
        assert after.start == next_start(before.start, bucket)
    for period in found:
        assert bucket_start(period.first, bucket) == period.start
        assert bucket_start(period.last, bucket) == period.start


@given(days, buckets)
def test_a_bucket_starts_on_a_monday_or_the_first_of_a_month(day: date, bucket: Bucket) -> None:
    start = bucket_start(day, bucket)
    assert start <= day < next_start(start, bucket)
    if bucket is Bucket.WEEK:
        assert start.weekday() == 0
    if bucket is Bucket.MONTH:
        assert start.day == 1


waits = st.lists(st.integers(0, 10**7), min_size=1, max_size=50)


@given(waits)
def test_the_median_is_the_statistics_median(values: list[int]) -> None:
    assert percentile_cont(values, 0.5) == statistics.median(values)


@given(waits, st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
def test_a_percentile_lies_between_its_neighbours(values: list[int], fraction: float) -> None:
    found = percentile_cont(values, fraction)
    assert found is not None
    ordered = sorted(values)
    assert ordered[0] <= found <= ordered[-1]
    assert percentile_cont(values, 0.0) == ordered[0]
    assert percentile_cont(values, 1.0) == ordered[-1]
    quantiles = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else []
    if fraction == 0.9 and quantiles:
        assert abs(found - quantiles[8]) <= 1e-6 * max(1, ordered[-1])


def test_no_values_no_percentile() -> None:
    assert percentile_cont([], 0.5) is None
