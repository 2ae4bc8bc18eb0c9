"""The demand report's pure rules: its window, its buckets and its percentiles.

The sums themselves are the database's (``api/store/demand.py``); what is here is what both
databases and the tests must agree on: where a bucket starts and ends, and how a percentile
between two waits is interpolated (PostgreSQL's ``percentile_cont``, which SQLite lacks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from api.domain.errors import InvalidInput

MAX_WINDOW_DAYS = 3660
"""A report covers at most about ten years."""


class Bucket(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    """ISO weeks: Monday to Sunday."""
    MONTH = "MONTH"


def bucket_start(day: date, bucket: Bucket) -> date:
    """The first day of the bucket ``day`` falls in."""
    if bucket is Bucket.DAY:
        return day
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_start(start: date, bucket: Bucket) -> date:
    """The first day of the bucket after the one starting on ``start``."""
    if bucket is Bucket.DAY:
        return start + timedelta(days=1)
    if bucket is Bucket.WEEK:
        return start + timedelta(days=7)
    if start.month == 12:
        return date(start.year + 1, 1, 1)
    return date(start.year, start.month + 1, 1)


@dataclass(frozen=True)
class Period:
    """One bucket, cut to the window: ``first`` to ``last``, both days included."""

    start: date
    """The bucket's own first day (may be before the window's)."""
    first: date
    last: date


def periods(first: date, last: date, bucket: Bucket) -> list[Period]:
    """The buckets that cover the days ``first`` to ``last``, in order, each cut to them."""
    found: list[Period] = []
    start = bucket_start(first, bucket)
    while start <= last:
        following = next_start(start, bucket)
        found.append(Period(start, max(start, first), min(following - timedelta(days=1), last)))
        start = following
    return found


@dataclass(frozen=True)
class Window:
    """Orders placed from ``first`` (00:00 UTC) to the end of ``last`` (both days included)."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the window."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)


def window(first: date, last: date) -> Window:
    if last < first:
        raise InvalidInput("to", "must not be before from")
    if (last - first).days >= MAX_WINDOW_DAYS:
        raise InvalidInput("to", f"a report covers at most {MAX_WINDOW_DAYS} days")
    return Window(first, last)


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ``values`` as PostgreSQL's ``percentile_cont`` gives
    it: sorted, at position ``fraction * (n - 1)``, interpolated linearly between the two
    values around it (``low + (position - floor) * (high - low)``); None for no values."""
    if not values:
        return None
    ordered = sorted(float(v) for v in values)
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    low = ordered[below]
    if below + 1 >= len(ordered) or position == below:
        return low
    return low + (position - below) * (ordered[below + 1] - low)


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, None when there is no whole."""
    return part / whole if whole else None
