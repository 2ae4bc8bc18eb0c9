"""Queue positions and estimated ship dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import accumulate

from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.estimates import Estimate, allocated_ship_date, estimate_queue, is_delayed
from api.domain.model import Policy, QueueEntry, Supply
from api.domain.queue import in_queue_order
from tests.unit.strategies import START, queues

TODAY = date(2025, 3, 10)
PROPERTY = settings(max_examples=200, deadline=None)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def waiting(entry_id: int, quantity: int, allocated: int = 0) -> QueueEntry:
    return QueueEntry(entry_id, 0, START + timedelta(minutes=entry_id), quantity, allocated)





supplies = st.lists(
    st.builds(Supply, expected=st.dates(days(-5), days(60)), units=st.integers(1, 30)),
    max_size=6,
)
# Small amounts are common so that supply often runs out before the queue does.
free_units = st.integers(0, 20) | st.integers(0, 200)
policies = st.builds(
    Policy,
    lead_time_days=st.integers(0, 30),
    handling_days=st.integers(0, 5),
    release_date=st.none() | st.dates(days(-10), days(90)),
)


# examples


def test_covered_by_free_stock_ships_after_handling() -> None:
    estimates = estimate_queue([waiting(1, 3)], 5, [], Policy(handling_days=2), TODAY)

    assert estimates[1] == Estimate(position=1, units_ahead=0, ship_date=days(2), scheduled=True)


def test_covered_by_a_restock_ships_restock_date_plus_handling() -> None:
    restock = Supply(expected=days(10), units=5)

    estimates = estimate_queue([waiting(1, 4)], 0, [restock], Policy(handling_days=2), TODAY)

    assert estimates[1].ship_date == days(12)
    assert estimates[1].scheduled


def test_restock_covers_the_remaining_units_only() -> None:
    restock = Supply(expected=days(10), units=2)

    estimates = estimate_queue([waiting(1, 5, allocated=3)], 0, [restock], Policy(), TODAY)

    assert estimates[1].ship_date == days(11)
    assert estimates[1].scheduled


def test_restocks_are_used_by_expected_date() -> None:
    later = Supply(expected=days(20), units=5)
    sooner = Supply(expected=days(5), units=5)

    estimates = estimate_queue([waiting(1, 5)], 0, [later, sooner], Policy(), TODAY)

    assert estimates[1].ship_date == days(6)


def test_second_back_order_waits_for_the_units_ahead_of_it() -> None:
    queue = [waiting(1, 3), waiting(2, 4)]
    restocks = [Supply(days(5), 3), Supply(days(9), 4)]

    estimates = estimate_queue(queue, 0, restocks, Policy(handling_days=1), TODAY)

    assert estimates[1] == Estimate(1, 0, days(6), True)
    assert estimates[2] == Estimate(2, 3, days(10), True)


def test_overdue_restock_counts_from_today() -> None:
    overdue = Supply(expected=days(-3), units=5)

    estimates = estimate_queue([waiting(1, 5)], 0, [overdue], Policy(handling_days=1), TODAY)

    assert estimates[1].ship_date == days(1)


def test_not_covered_falls_back_to_lead_time() -> None:
    too_small = Supply(expected=days(3), units=2)

    estimates = estimate_queue([waiting(1, 5)], 1, [too_small], Policy(lead_time_days=14), TODAY)

    assert estimates[1] == Estimate(1, 0, days(14), scheduled=False)


def test_lead_time_fallback_never_comes_before_an_earlier_back_order() -> None:
    queue = [waiting(1, 5), waiting(2, 5)]
    late_restock = Supply(expected=days(30), units=5)

    estimates = estimate_queue(queue, 0, [late_restock], Policy(lead_time_days=14), TODAY)

    assert estimates[1] == Estimate(1, 0, days(31), True)
    assert estimates[2] == Estimate(2, 5, days(31), False)


def test_never_ships_before_release() -> None:
    policy = Policy(handling_days=1, release_date=days(30))

    estimates = estimate_queue([waiting(1, 1)], 10, [], policy, TODAY)

    assert estimates[1].ship_date == days(30)
    assert estimates[1].scheduled


def test_lead_time_fallback_never_ships_before_release() -> None:
    policy = Policy(lead_time_days=7, release_date=days(30))

    estimates = estimate_queue([waiting(1, 1)], 0, [], policy, TODAY)

    assert estimates[1] == Estimate(1, 0, days(30), False)


def test_past_release_date_does_not_hold_back_shipping() -> None:
    policy = Policy(handling_days=1, release_date=days(-30))

    assert estimate_queue([waiting(1, 1)], 1, [], policy, TODAY)[1].ship_date == days(1)


def test_tail_of_a_longer_queue_starts_at_the_given_position_and_floor() -> None:
    policy = Policy(handling_days=1)

    estimates = estimate_queue(
        [waiting(9, 2)], 10, [], policy, TODAY, units_before=4, first_position=3, floor=days(8)
    )

    assert estimates[9] == Estimate(position=3, units_ahead=4, ship_date=days(8), scheduled=True)


def test_empty_queue_has_no_estimates() -> None:
    assert estimate_queue([], 10, [Supply(days(1), 5)], Policy(), TODAY) == {}


def test_allocated_back_order_ships_after_handling() -> None:
    assert allocated_ship_date(Policy(handling_days=3), TODAY) == days(3)


def test_allocated_pre_order_ships_on_release() -> None:
    assert allocated_ship_date(Policy(handling_days=1, release_date=days(20)), TODAY) == days(20)


def test_estimate_within_grace_is_not_delayed() -> None:
    assert not is_delayed(days(12), days(10), Policy(delay_grace_days=2))


def test_estimate_past_grace_is_delayed() -> None:
    assert is_delayed(days(13), days(10), Policy(delay_grace_days=2))


def test_earlier_estimate_is_not_delayed() -> None:
    assert not is_delayed(days(5), days(10), Policy(delay_grace_days=0))


def test_without_grace_one_day_late_is_delayed() -> None:
    assert is_delayed(days(11), days(10), Policy(delay_grace_days=0))


# properties


@PROPERTY
@given(queues, free_units, supplies, policies)
def test_every_entry_gets_one_estimate(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy
) -> None:
    estimates = estimate_queue(queue, free, supply, policy, TODAY)

    assert list(estimates) == [entry.id for entry in queue]


@PROPERTY
@given(queues, free_units, supplies, policies)
def test_dates_never_decrease_along_the_queue(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy
) -> None:
    estimates = estimate_queue(queue, free, supply, policy, TODAY)
    dates = [estimates[entry.id].ship_date for entry in queue]

    assert dates == sorted(dates)


@PROPERTY
@given(queues, free_units, supplies, policies)
def test_positions_are_consecutive_from_one(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy
) -> None:
    estimates = estimate_queue(queue, free, supply, policy, TODAY)

    assert [estimates[entry.id].position for entry in queue] == list(range(1, len(queue) + 1))


@PROPERTY
@given(queues, free_units, supplies, policies)
def test_units_ahead_are_the_remaining_units_before(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy
) -> None:
    estimates = estimate_queue(queue, free, supply, policy, TODAY)
    ahead = [0, *accumulate(entry.remaining for entry in queue)][: len(queue)]

    assert [estimates[entry.id].units_ahead for entry in queue] == ahead


@PROPERTY
@given(queues, free_units, supplies, policies)
def test_scheduled_exactly_when_supply_covers_the_entry(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy
) -> None:
    estimates = estimate_queue(queue, free, supply, policy, TODAY)
    total_supply = free + sum(s.units for s in supply)

    for entry in queue:
        estimate = estimates[entry.id]
        assert estimate.scheduled == (estimate.units_ahead + entry.remaining <= total_supply)


@PROPERTY
@given(queues, free_units, supplies, policies)
def test_never_ships_before_handling_or_lead_time_nor_release(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy
) -> None:
    estimates = estimate_queue(queue, free, supply, policy, TODAY)

    for estimate in estimates.values():
        wait = policy.handling_days if estimate.scheduled else policy.lead_time_days
        assert estimate.ship_date >= TODAY + timedelta(days=wait)
        if policy.release_date is not None:
            assert estimate.ship_date >= policy.release_date


@PROPERTY
@given(queues, free_units, supplies, policies, st.integers(0, 15))
def test_estimating_the_tail_matches_estimating_the_whole_queue(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy, cut: int
) -> None:
    cut = min(cut, len(queue))
    head, tail = queue[:cut], queue[cut:]
    whole = estimate_queue(queue, free, supply, policy, TODAY)

    floor = whole[head[-1].id].ship_date if head else None
    units_before = sum(entry.remaining for entry in head)
    tail_only = estimate_queue(
        tail, free, supply, policy, TODAY, units_before, first_position=cut + 1, floor=floor
    )

    assert tail_only == {entry.id: whole[entry.id] for entry in tail}


@PROPERTY
@given(st.dates(days(-30), days(30)), st.dates(days(-30), days(30)), st.integers(0, 10))
def test_delayed_exactly_when_past_promise_plus_grace(
    estimate: date, promised: date, grace: int
) -> None:
    delayed = is_delayed(estimate, promised, Policy(delay_grace_days=grace))

    assert delayed == ((estimate - promised).days > grace)


@PROPERTY
@given(queues, free_units, supplies, policies, st.data())
def test_raising_one_priority_moves_it_forward_and_nobody_else_forward(
    queue: list[QueueEntry], free: int, supply: list[Supply], policy: Policy,
    data: st.DataObject,
) -> None:
    """What ``setBackOrderPriority`` does to a queue: the raised back order's place and
    units ahead never get worse, every other's never get better, and the new queue's dates
    still never decrease along it.

    Dates are not monotone under a reorder: a back order that moves from beyond the
    scheduled supply into it trades the lead-time guess (today + lead time) for the
    restock's date, which may be later, and the one it passes may trade the other way."""
    if not queue:
        return
    moved = data.draw(st.sampled_from(queue))
    raised = replace(moved, priority=moved.priority + data.draw(st.integers(1, 5)))
    after = in_queue_order([raised if e.id == moved.id else e for e in queue])
    before_estimates = estimate_queue(queue, free, supply, policy, TODAY)
    after_estimates = estimate_queue(after, free, supply, policy, TODAY)
    dates = [after_estimates[entry.id].ship_date for entry in after]
    assert dates == sorted(dates)
    for entry in queue:
        old, new = before_estimates[entry.id], after_estimates[entry.id]
        if entry.id == moved.id:
            assert new.position <= old.position and new.units_ahead <= old.units_ahead
        else:
            assert new.position >= old.position and new.units_ahead >= old.units_ahead
