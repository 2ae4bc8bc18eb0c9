"""The back-order status machine."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.errors import InvalidTransition
from api.domain.model import OPEN_STATUSES, QUEUED_STATUSES, Status
from api.domain.status import can_transition, status_for_allocation, transition

PROPERTY = settings(max_examples=200, deadline=None)

W = Status.WAITING
P = Status.PARTIALLY_ALLOCATED
A = Status.ALLOCATED
S = Status.SHIPPED
C = Status.CANCELLED

# Written out from the design, not read from the implementation.
ALLOWED = {(W, P), (W, A), (W, C), (P, A), (P, C), (A, S), (A, C)}
FORBIDDEN = sorted(set(itertools.product(Status, Status)) - ALLOWED)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transition_returns_the_target(current: Status, target: Status) -> None:
    assert can_transition(current, target)
    assert transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_transition_raises(current: Status, target: Status) -> None:
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition) as raised:
        transition(current, target)

    assert raised.value.from_status == current.value
    assert raised.value.to_status == target.value
    assert raised.value.code == "INVALID_TRANSITION"


def test_every_pair_of_statuses_is_classified() -> None:
    assert len(ALLOWED) + len(FORBIDDEN) == len(Status) ** 2


@pytest.mark.parametrize("terminal", [S, C])
def test_shipped_and_cancelled_are_terminal(terminal: Status) -> None:
    assert not any(can_transition(terminal, target) for target in Status)


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_any_open_back_order_can_be_cancelled(status: Status) -> None:
    assert transition(status, C) is C


@pytest.mark.parametrize("status", sorted(QUEUED_STATUSES))
def test_only_a_fully_allocated_back_order_ships(status: Status) -> None:
    assert not can_transition(status, S)


def test_open_and_queued_statuses() -> None:
    assert OPEN_STATUSES == {W, P, A}
    assert QUEUED_STATUSES == {W, P}


@pytest.mark.parametrize(
    ("quantity", "allocated", "expected"),
    [(5, 0, W), (5, 1, P), (5, 4, P), (5, 5, A), (1, 0, W), (1, 1, A)],
)
def test_status_for_allocation(quantity: int, allocated: int, expected: Status) -> None:
    assert status_for_allocation(quantity, allocated) is expected


@PROPERTY
@given(st.integers(1, 20).flatmap(lambda q: st.tuples(st.just(q), st.integers(0, q))))
def test_status_for_allocation_is_open_and_matches_the_level(case: tuple[int, int]) -> None:
    quantity, allocated = case

    status = status_for_allocation(quantity, allocated)

    assert status in OPEN_STATUSES
    assert (status is W) == (allocated == 0)
    assert (status is A) == (allocated == quantity)


@PROPERTY
@given(
    st.integers(1, 20).flatmap(
        lambda q: st.tuples(st.just(q), st.integers(0, q), st.integers(0, q)).map(
            lambda t: (t[0], min(t[1], t[2]), max(t[1], t[2]))
        )
    )
)
def test_more_allocation_is_always_a_legal_move(case: tuple[int, int, int]) -> None:
    quantity, before, after = case

    old = status_for_allocation(quantity, before)
    new = status_for_allocation(quantity, after)

    assert old == new or can_transition(old, new)
