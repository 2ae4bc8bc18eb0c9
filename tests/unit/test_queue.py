"""Queue order: higher priority first, then earlier placement, then lower id."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.model import QueueEntry
from api.domain.queue import (
    BEFORE_TIE_BREAK,
    QUEUE_ORDER,
    OrderField,
    comes_after,
    in_queue_order,
    orm_ordering,
    queue_key,
    sort_key,
    sql_order_by,
)
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


# The forms rendered from the declaration, shown on an order of their own.
SIZE_THEN_NAME = (OrderField("size", descending=True), OrderField("name"))


def test_orm_ordering_marks_descending_fields_with_a_minus() -> None:
    assert orm_ordering(SIZE_THEN_NAME) == ("-size", "name")


def test_sql_order_by_names_descending_fields() -> None:
    assert sql_order_by(SIZE_THEN_NAME) == "size DESC, name"


def test_sql_order_by_reversed_reads_from_the_end() -> None:
    assert sql_order_by(SIZE_THEN_NAME, reverse=True) == "size, name DESC"


def test_sql_order_by_puts_the_prefix_before_each_column() -> None:
    assert sql_order_by(SIZE_THEN_NAME, prefix="t.") == "t.size DESC, t.name"


def test_the_tie_break_is_the_id() -> None:
    assert QUEUE_ORDER[-1] == OrderField("id")
    assert BEFORE_TIE_BREAK == QUEUE_ORDER[:-1]


def test_a_twin_but_for_its_id_does_not_come_after() -> None:
    first, twin = entry(1, priority=1, minutes=3), entry(2, priority=1, minutes=3)

    assert not comes_after(twin, first)
    assert not comes_after(first, twin)


@PROPERTY
@given(queued_entries, queued_entries)
def test_comes_after_is_the_queue_order_without_the_id(a: QueueEntry, b: QueueEntry) -> None:
    without_id = (-a.priority, a.placed_at) > (-b.priority, b.placed_at)

    assert comes_after(a, b) == without_id


def _sorted_by_sql(unordered: list[QueueEntry], reverse: bool) -> list[int]:
    """Ids of ``unordered`` as SQLite orders them by the rendered ORDER BY."""
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE back_order (id INTEGER, priority INTEGER, placed_at TEXT)")
        db.executemany("INSERT INTO back_order VALUES (?, ?, ?)", [
            (e.id, e.priority, e.placed_at.isoformat(timespec="microseconds"))
            for e in unordered])
        rows = db.execute("SELECT id FROM back_order ORDER BY "
                          + sql_order_by(QUEUE_ORDER, reverse=reverse)).fetchall()
    return [row[0] for row in rows]


@PROPERTY
@given(entries)
def test_sql_order_by_orders_as_the_sort_key_does(unordered: list[QueueEntry]) -> None:
    by_key = [e.id for e in in_queue_order(unordered)]

    assert _sorted_by_sql(unordered, reverse=False) == by_key
    assert _sorted_by_sql(unordered, reverse=True) == by_key[::-1]


@PROPERTY
@given(entries)
def test_orm_ordering_agrees_with_the_sort_key(unordered: list[QueueEntry]) -> None:
    ordered = list(unordered)
    for name in reversed(orm_ordering()):  # Sorting by each field in turn, as stable sorts do.
        ordered.sort(key=lambda e: getattr(e, name.lstrip("-")), reverse=name.startswith("-"))

    assert ordered == sorted(unordered, key=sort_key)
