"""Queue order: higher priority first, then earlier placement, then lower id."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.model import QueueEntry
from api.domain.queue import in_queue_order, queue_key
from tests.unit.strategies import START, queued_entries

PROPERTY = settings(max_examples=200, deadline=None)


def entry(
    entry_id: int, priority: int = 0, minutes: int = 0, quantity: int = 1, allocated: int = 0
) -> QueueEntry:
    return QueueEntry(entry_id, priority, START + timedelta(minutes=minutes), quantity, allocated)




entries = st.lists(queued_entries, unique_by=lambda e: e.id, max_size=15)
"""Back orders with unique ids, in no particular order."""


def test_higher_priority_goes_first() -> None:
    early_normal = entry(1, priority=0, minutes=0)
    late_urgent = entry(2, priority=2, minutes=30)

    assert in_queue_order([early_normal, late_urgent]) == [late_urgent, early_normal]


def test_same_priority_goes_by_time_placed() -> None:
    late = entry(1, minutes=10)
    early = entry(2, minutes=0)

    assert in_queue_order([late, early]) == [early, late]


def test_same_priority_and_time_goes_by_id() -> None:
    second = entry(7)
    first = entry(3)

    assert in_queue_order([second, first]) == [first, second]


def test_empty_queue_stays_empty() -> None:
    assert in_queue_order([]) == []


def test_queue_key_ignores_quantities() -> None:
    assert queue_key(entry(1, quantity=9, allocated=4)) == queue_key(entry(1, quantity=2))


@PROPERTY
@given(entries)
def test_queue_order_is_a_permutation(unordered: list[QueueEntry]) -> None:
    ordered = in_queue_order(unordered)

    assert Counter(e.id for e in ordered) == Counter(e.id for e in unordered)
    assert len(ordered) == len(unordered)


@PROPERTY
@given(entries)
def test_queue_order_is_priority_desc_then_placed_at_then_id(unordered: list[QueueEntry]) -> None:
    ordered = in_queue_order(unordered)

    for before, after in pairwise(ordered):
        assert before.priority >= after.priority
        if before.priority == after.priority:
            assert before.placed_at <= after.placed_at
            if before.placed_at == after.placed_at:
                assert before.id < after.id


@PROPERTY
@given(entries, st.randoms(use_true_random=False))
def test_queue_order_does_not_depend_on_input_order(
    unordered: list[QueueEntry], rng: Random
) -> None:
    shuffled = list(unordered)
    rng.shuffle(shuffled)

    assert in_queue_order(shuffled) == in_queue_order(unordered)


@PROPERTY
@given(entries)
def test_queue_order_is_idempotent(unordered: list[QueueEntry]) -> None:
    ordered = in_queue_order(unordered)

    assert in_queue_order(ordered) == ordered
