"""The restock status machine: a restock is open until it is received in full or cancelled.

Scheduled, it may be received in part (partly received) or in full (received), or be
cancelled; partly received, the same. Received and cancelled are final: every move of a
closed restock is an ``InvalidTransition``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from api.domain import validation
from api.domain.errors import InvalidInput, InvalidTransition
from api.domain.model import RestockStatus

OPEN_RESTOCK_STATUSES = (RestockStatus.SCHEDULED, RestockStatus.PARTIALLY_RECEIVED)

RESCHEDULED = "RESCHEDULED"
"""The action a rescheduling names when it is refused (it is no status of its own)."""


@dataclass(frozen=True)
class RestockState:
    status: RestockStatus
    quantity: int
    """The units ordered; a receipt never changes it (see ``receive``)."""
    received: int

    @property
    def outstanding(self) -> int:
        """Units still expected: none once the restock is closed (received or cancelled)."""
        return max(self.quantity - self.received, 0) if is_open(self.status) else 0

    @property
    def over_delivered(self) -> int:
        """Units received beyond the quantity ordered."""
        return max(self.received - self.quantity, 0)


def is_open(status: RestockStatus) -> bool:
    return status in OPEN_RESTOCK_STATUSES


def require_open(state: RestockState, action: str) -> None:
    if not is_open(state.status):
        raise InvalidTransition("restock", state.status.value, action)


def status_for_receipt(quantity: int, received: int) -> RestockStatus:
    """The status an open restock's receipts imply (after at least one was counted in)."""
    return RestockStatus.RECEIVED if received >= quantity else RestockStatus.PARTIALLY_RECEIVED


def receive(state: RestockState, quantity: int | None = None) -> RestockState:
    """Count ``quantity`` units in (all that is outstanding when None). An over-delivery
    is real stock: it is counted in and closes the restock as received, and the quantity
    ordered stays as it was, so ``over_delivered`` says how many came beyond it."""
    require_open(state, RestockStatus.RECEIVED.value)
    units = validation.positive(state.outstanding if quantity is None else quantity,
                                "quantity")
    received = state.received + units
    return RestockState(status_for_receipt(state.quantity, received), state.quantity, received)


def reschedule(state: RestockState, quantity: int | None = None) -> RestockState:
    """A new quantity (or none, for a new date only); one that comes down to what was
    received already closes the restock as received."""
    require_open(state, RESCHEDULED)
    if quantity is not None:
        validation.positive(quantity, "quantity")
        if quantity < state.received:
            raise InvalidInput("quantity", f"{state.received} were received already")
        state = replace(state, quantity=quantity)
    if state.received >= state.quantity:
        state = replace(state, status=RestockStatus.RECEIVED)
    return state


def cancel(state: RestockState) -> RestockState:
    require_open(state, RestockStatus.CANCELLED.value)
    return replace(state, status=RestockStatus.CANCELLED)
