"""The rules of notify-me holds (``api/domain/holds.py``), with hypothesis: a hold never
exceeds the free units or what a waitlister wants, holds go in join order, and an expired
(or left) hold always passes on to the next waitlisters; a simulated waitlist never holds a
unit twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from api.domain.errors import InvalidInput, InvalidTransition
from api.domain.holds import (
    HoldPolicy,
    Waiter,
    check_claim,
    hold_expired,
    offer_holds,
)
from api.domain.model import WaitlistStatus

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
waiters = st.lists(st.integers(1, 5), max_size=20).map(
    lambda wants: [Waiter(i + 1, w) for i, w in enumerate(wants)])


@given(st.integers(-3, 60), waiters)
def test_holds_never_exceed_the_free_units_nor_what_anyone_wants(free: int,
                                                                 queue: list[Waiter]) -> None:
    holds = offer_holds(free, queue)
    wanted = {w.id: w.wanted for w in queue}
    assert sum(h.units for h in holds) <= max(free, 0)
    assert all(0 < h.units <= wanted[h.entry_id] for h in holds)
    # All the free units are held when enough people want them.
    assert sum(h.units for h in holds) == min(max(free, 0), sum(wanted.values()))


@given(st.integers(0, 60), waiters)
def test_holds_go_in_join_order_and_only_the_last_may_be_short(free: int,
                                                               queue: list[Waiter]) -> None:
    holds = offer_holds(free, queue)
    assert [h.entry_id for h in holds] == [w.id for w in queue[:len(holds)]]
    assert all(h.units == queue[i].wanted for i, h in enumerate(holds[:-1]))


def test_a_hold_is_over_at_its_instant_and_claimable_before() -> None:
    policy = HoldPolicy(minutes=60, remind_before_minutes=10)
    ends = policy.expires_at(T0)
    assert ends == T0 + timedelta(hours=1)
    assert not hold_expired(ends, ends - timedelta(microseconds=1))
    assert hold_expired(ends, ends)
    check_claim(WaitlistStatus.HOLDING, ends, ends - timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="from EXPIRED to CLAIMED"):
        check_claim(WaitlistStatus.HOLDING, ends, ends)
    for status in (WaitlistStatus.WAITING, WaitlistStatus.LEFT, WaitlistStatus.EXPIRED,
                   WaitlistStatus.CLAIMED):
        with pytest.raises(InvalidTransition, match=f"from {status.value} to CLAIMED"):
            check_claim(status, ends, T0)


def test_a_reminder_is_due_once_in_the_last_minutes() -> None:
    policy = HoldPolicy(minutes=60, remind_before_minutes=10)
    ends = policy.expires_at(T0)
    assert not policy.reminder_due(ends, None, ends - timedelta(minutes=11))
    assert policy.reminder_due(ends, None, ends - timedelta(minutes=10))
    assert not policy.reminder_due(ends, T0, ends - timedelta(minutes=5))
    assert not policy.reminder_due(ends, None, ends)
    assert not HoldPolicy(60, 0).reminder_due(ends, None, ends - timedelta(minutes=1))


@pytest.mark.parametrize(("minutes", "remind"), [(0, 0), (60 * 24 * 31, 0), (60, 60),
                                                 (60, -1)])
def test_a_bad_hold_policy_is_refused(minutes: int, remind: int) -> None:
    with pytest.raises(InvalidInput):
        HoldPolicy(minutes, remind)


class Waitlist(RuleBasedStateMachine):
    """Units arrive, holds are claimed, left or expire, people join: the free units are
    always offered (nobody waits while a unit is free), no unit is held twice, and the
    units of a hold that ends go to the waitlisters next in join order."""

    def __init__(self) -> None:
        super().__init__()
        self.free = 0
        self.sold = 0
        self.received = 0
        self.next_id = 1
        self.waiting: list[Waiter] = []
        self.holding: dict[int, int] = {}

    def _offer(self) -> list[int]:
        holds = offer_holds(self.free, self.waiting)
        for hold in holds:
            self.holding[hold.entry_id] = hold.units
            self.free -= hold.units
        offered = {h.entry_id for h in holds}
        self.waiting = [w for w in self.waiting if w.id not in offered]
        return [h.entry_id for h in holds]

    @rule(wanted=st.integers(1, 4))
    def join(self, wanted: int) -> None:
        if self.free == 0:  # (only an out-of-stock product has a waitlist)
            self.waiting.append(Waiter(self.next_id, wanted))
        self.next_id += 1

    @rule(units=st.integers(1, 6))
    def receive(self, units: int) -> None:
        self.received += units
        self.free += units
        self._offer()

    @precondition(lambda self: self.holding)
    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(sorted(self.holding)))
        self.sold += self.holding.pop(entry)

    @precondition(lambda self: self.holding)
    @rule(data=st.data())
    def expire_or_leave(self, data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(sorted(self.holding)))
        before = list(self.waiting)
        self.free += self.holding.pop(entry)
        offered = self._offer()
        # The freed units went to the head of the waitlist, in join order.
        assert offered == [w.id for w in before[:len(offered)]]

    @invariant()
    def no_unit_is_held_twice_or_lost(self) -> None:
        assert self.free >= 0
        assert self.free + sum(self.holding.values()) + self.sold == self.received

    @invariant()
    def nobody_waits_while_a_unit_is_free(self) -> None:
        assert self.free == 0 or not self.waiting


TestWaitlist = Waitlist.TestCase
