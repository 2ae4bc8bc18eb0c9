"""The restock status machine: open until received in full or cancelled."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.errors import InvalidInput, InvalidTransition
from api.domain.model import RestockStatus
from api.domain.restocks import (
    OPEN_RESTOCK_STATUSES,
    RestockState,
    cancel,
    is_open,
    receive,
    reschedule,
)

PROPERTY = settings(max_examples=200, deadline=None)

SCHEDULED = RestockStatus.SCHEDULED
PARTLY = RestockStatus.PARTIALLY_RECEIVED
RECEIVED = RestockStatus.RECEIVED
CANCELLED = RestockStatus.CANCELLED


def scheduled(quantity: int = 10) -> RestockState:
    return RestockState(SCHEDULED, quantity, 0)


@st.composite
def open_restocks(draw: st.DrawFn) -> RestockState:
    """A scheduled restock, or one received in part (0 < received < quantity)."""
    quantity = draw(st.integers(1, 50))
    received = draw(st.integers(0, quantity - 1))
    return RestockState(SCHEDULED if received == 0 else PARTLY, quantity, received)


closed_restocks = st.builds(
    RestockState, st.sampled_from([RECEIVED, CANCELLED]), st.integers(1, 50), st.integers(0, 50))


def test_open_statuses() -> None:
    assert set(OPEN_RESTOCK_STATUSES) == {SCHEDULED, PARTLY}
    assert [s for s in RestockStatus if is_open(s)] == [SCHEDULED, PARTLY]


def test_receiving_everything_outstanding_closes_it() -> None:
    assert receive(RestockState(PARTLY, 10, 4)) == RestockState(RECEIVED, 10, 10)


def test_receiving_part_leaves_it_partly_received() -> None:
    assert receive(scheduled(10), 3) == RestockState(PARTLY, 10, 3)


def test_an_over_delivery_is_received_and_says_so() -> None:
    after = receive(scheduled(3), 4)

    assert after == RestockState(RECEIVED, 3, 4)
    assert (after.outstanding, after.over_delivered) == (0, 1)


def test_a_cancelled_restock_expects_nothing_more() -> None:
    after = cancel(RestockState(PARTLY, 10, 4))

    assert (after.outstanding, after.over_delivered) == (0, 0)
    assert cancel(scheduled(3)).outstanding == 0


@pytest.mark.parametrize("units", [0, -1])
def test_receiving_nothing_is_refused(units: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        receive(scheduled(), units)

    assert raised.value.field == "quantity"


def test_rescheduling_keeps_the_status() -> None:
    assert reschedule(RestockState(PARTLY, 10, 4), 20) == RestockState(PARTLY, 20, 4)
    assert reschedule(scheduled(10)) == scheduled(10)


def test_rescheduling_down_to_what_was_received_closes_it() -> None:
    assert reschedule(RestockState(PARTLY, 10, 4), 4) == RestockState(RECEIVED, 4, 4)


def test_rescheduling_below_what_was_received_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        reschedule(RestockState(PARTLY, 10, 4), 3)

    assert (raised.value.field, raised.value.reason) == ("quantity", "4 were received already")


def test_rescheduling_to_nothing_is_refused() -> None:
    with pytest.raises(InvalidInput):
        reschedule(scheduled(), 0)


def test_cancelling_keeps_what_was_received() -> None:
    assert cancel(RestockState(PARTLY, 10, 4)) == RestockState(CANCELLED, 10, 4)


@pytest.mark.parametrize(("move", "action"), [
    (lambda s: receive(s), "RECEIVED"),
    (lambda s: reschedule(s, 5), "RESCHEDULED"),
    (cancel, "CANCELLED"),
])
@pytest.mark.parametrize("status", [RECEIVED, CANCELLED])
def test_a_closed_restock_refuses_every_move(
    move: Callable[[RestockState], RestockState], action: str, status: RestockStatus
) -> None:
    with pytest.raises(InvalidTransition) as raised:
        move(RestockState(status, 10, 10))

    assert (raised.value.entity, raised.value.from_status, raised.value.to_status) == (
        "restock", status.value, action)


@PROPERTY
@given(open_restocks(), st.none() | st.integers(1, 60))
def test_a_receipt_counts_the_units_in_and_the_status_follows(
    before: RestockState, units: int | None
) -> None:
    after = receive(before, units)

    assert after.received == before.received + (before.outstanding if units is None else units)
    assert after.quantity == before.quantity
    assert after.over_delivered == max(after.received - after.quantity, 0)
    assert (after.status is RECEIVED) == (after.outstanding == 0)
    assert after.status in (PARTLY, RECEIVED)


@PROPERTY
@given(open_restocks(), st.none() | st.integers(1, 60))
def test_a_rescheduling_never_goes_below_what_was_received(
    before: RestockState, quantity: int | None
) -> None:
    try:
        after = reschedule(before, quantity)
    except InvalidInput:
        assert quantity is not None and quantity < before.received
        return

    assert after.received == before.received
    assert after.quantity == (before.quantity if quantity is None else quantity)
    assert is_open(after.status) == (after.outstanding > 0)


@PROPERTY
@given(closed_restocks)
def test_a_closed_restock_has_nothing_outstanding(state: RestockState) -> None:
    assert state.outstanding == 0


@PROPERTY
@given(closed_restocks, st.sampled_from(["receive", "reschedule", "cancel"]))
def test_closed_is_final(state: RestockState, move: str) -> None:
    with pytest.raises(InvalidTransition):
        {"receive": lambda: receive(state), "reschedule": lambda: reschedule(state, 5),
         "cancel": lambda: cancel(state)}[move]()


@PROPERTY
@given(open_restocks(), st.lists(st.integers(1, 20), min_size=1, max_size=8))
def test_receipts_in_parts_end_received_once_all_arrived(
    start: RestockState, parts: list[int]
) -> None:
    state = start
    for units in parts:
        if not is_open(state.status):
            with pytest.raises(InvalidTransition):
                receive(state, units)
            return
        state = receive(state, units)
        assert state.received - state.over_delivered + state.outstanding == state.quantity

    assert (state.status is RECEIVED) == (start.received + sum(parts) >= start.quantity)
