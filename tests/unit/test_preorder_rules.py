"""The rules of pre-orders (``api/domain/preorders.py``), with hypothesis: a release is due
exactly from its day on and only once; a moved date releases, moves or does nothing; and a
simulated queue of placements and cancellations always has its early-bird marks on the
first pre-orders that were not cancelled, never more than the size."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from api.domain.preorders import (
    ReleaseChange,
    early_birds_to_mark,
    release_change,
    release_due,
)

TODAY = date(2026, 12, 3)
days = st.integers(-30, 30).map(lambda n: TODAY + timedelta(days=n))


@given(days, st.booleans())
def test_a_release_is_due_from_its_day_until_it_happened(day: date, happened: bool) -> None:
    released_at = datetime(2026, 12, 1, tzinfo=UTC) if happened else None
    assert release_due(day, released_at, TODAY) == (not happened and day <= TODAY)
    assert not release_due(None, None, TODAY)


@given(days.filter(lambda d: d > TODAY), st.none() | days)
def test_a_moved_release_date_releases_moves_or_changes_nothing(
        before: date, after: date | None) -> None:
    change = release_change(before, after, TODAY)
    if after is None or after <= TODAY:
        assert change is ReleaseChange.RELEASE
    elif after == before:
        assert change is ReleaseChange.NONE
    else:
        assert change is ReleaseChange.MOVED


@given(st.none() | st.integers(1, 50), st.integers(0, 60), st.integers(0, 60))
def test_marks_never_exceed_the_size_nor_the_candidates(
        size: int | None, marked: int, candidates: int) -> None:
    given_now = early_birds_to_mark(size, marked, candidates)
    assert 0 <= given_now <= candidates
    if size is None:
        assert given_now == 0
    else:
        assert marked + given_now <= max(size, marked)
        assert given_now == max(min(size - marked, candidates), 0)


class EarlyBirds(RuleBasedStateMachine):
    """Pre-orders placed and cancelled, marked as ``api/services`` does: at placement while
    marks are free, and the next in line without one on a cancellation."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 3
        self.open: list[int] = []  # in line order
        self.marked: set[int] = set()
        self.cancelled: list[int] = []
        self.next_id = 1

    @rule()
    def place(self) -> None:
        new = self.next_id
        self.next_id += 1
        if early_birds_to_mark(self.size, len(self.marked), 1):
            self.marked.add(new)
        self.open.append(new)

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if not self.open:
            return
        gone = data.draw(st.sampled_from(self.open))
        self.open.remove(gone)
        self.cancelled.append(gone)
        if gone in self.marked:
            self.marked.discard(gone)
            free = [bo for bo in self.open if bo not in self.marked]
            self.marked.update(free[:early_birds_to_mark(self.size, len(self.marked),
                                                         len(free))])

    @invariant()
    def the_first_open_pre_orders_hold_the_marks(self) -> None:
        assert self.marked == set(self.open[:self.size])


TestEarlyBirds = EarlyBirds.TestCase
