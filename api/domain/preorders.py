"""Pre-orders: when a product is released, what moving its release date means, and which
pre-orders are early birds.

A product with a release date is a pre-order until that day. Pre-orders wait: the units on
hand are not allocated before the release, they are counted as the supply of the release
day. The release happens once: at the release date (the sweeper, or the first change of
the product's queue after it) or earlier, when staff release it; it allocates the units on
hand to the pre-orders in queue order and tells each pre-order's customer.

Early birds are the first ``early_bird_size`` pre-orders in the order they came (their
place in line when they were placed). A mark is kept once given (shipped ones count); when
an early bird is cancelled, its mark goes to the next pre-order in line that has none.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum


class ReleaseChange(StrEnum):
    """What a policy change does to a pre-order's release."""

    NONE = "NONE"
    MOVED = "MOVED"
    """A pre-order still, to another day: every pre-order's customer hears the new day."""
    RELEASE = "RELEASE"
    """No longer a pre-order (its day is today or before, or it was cleared): released now."""


def release_due(release_date: date | None, released_at: datetime | None, today: date) -> bool:
    """True once a product's release date has come and the release has not happened."""
    return release_date is not None and released_at is None and release_date <= today


def release_change(before: date | None, after: date | None, today: date) -> ReleaseChange:
    """What changing the release date from ``before`` to ``after`` does, for a product that
    was a pre-order (``before`` after ``today``)."""
    if after is None or after <= today:
        return ReleaseChange.RELEASE
    return ReleaseChange.MOVED if after != before else ReleaseChange.NONE


def early_birds_to_mark(size: int | None, marked: int, candidates: int) -> int:
    """How many of ``candidates`` (pre-orders without a mark, in line order) become early
    birds when ``marked`` pre-orders hold a mark already."""
    if size is None:
        return 0
    return max(min(size - marked, candidates), 0)
