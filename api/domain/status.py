"""The back-order status machine."""

from __future__ import annotations

from api.domain.errors import InvalidTransition
from api.domain.model import Status

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.WAITING: frozenset(
        {Status.PARTIALLY_ALLOCATED, Status.ALLOCATED, Status.CANCELLED}
    ),
    Status.PARTIALLY_ALLOCATED: frozenset({Status.ALLOCATED, Status.CANCELLED}),
    Status.ALLOCATED: frozenset({Status.SHIPPED, Status.CANCELLED}),
    Status.SHIPPED: frozenset(),
    Status.CANCELLED: frozenset(),
}


def can_transition(current: Status, target: Status) -> bool:
    return target in _ALLOWED[current]


def transition(current: Status, target: Status) -> Status:
    """Return ``target`` if the move is allowed, else raise ``InvalidTransition``."""
    if not can_transition(current, target):
        raise InvalidTransition("back order", current.value, target.value)
    return target


def status_for_allocation(quantity: int, allocated: int) -> Status:
    """The open status that an allocation level implies."""
    if allocated <= 0:
        return Status.WAITING
    if allocated < quantity:
        return Status.PARTIALLY_ALLOCATED
    return Status.ALLOCATED
