"""Shipping what has arrived (issue 16, part 6), as rules.

An order ships each part as it is allocated (``SHIP_AS_ALLOCATED``, the default) or in one go
once everything is there (``SHIP_TOGETHER``): the customer or the shop chooses per order. As
allocated, staff may ship the allocated part of a partly allocated back order; the rest keeps
its place in line. A back order's ``allocated`` counts every unit set aside for it, shipped or
not; ``shipped`` (at most ``allocated``) counts those gone, so what it still waits for is
``quantity - allocated`` either way and what is in the warehouse for it is
``allocated - shipped``.
"""

from __future__ import annotations

from api.domain.errors import InvalidTransition
from api.domain.model import QUEUED_STATUSES, Shipping, Status

PARTIAL = "PARTIALLY_SHIPPED"
TOGETHER_STATE = "SHIPS_WITH_ITS_ORDER"
"""The state an early ship of a ship-together order is refused from."""


def in_warehouse(allocated: int, shipped: int) -> int:
    """Units set aside for a back order and not shipped yet."""
    return allocated - shipped


def check_partial_shipment(status: Status, allocated: int, shipped: int,
                           shipping: Shipping) -> int:
    """The units staff may ship now from a partly allocated back order: what is set aside
    and not shipped yet, unless its order ships together."""
    if status is not Status.PARTIALLY_ALLOCATED:
        raise InvalidTransition("back order", status.value, PARTIAL)
    if shipping is Shipping.SHIP_TOGETHER:
        raise InvalidTransition("back order", TOGETHER_STATE, PARTIAL)
    units = in_warehouse(allocated, shipped)
    if units <= 0:
        raise InvalidTransition("back order", "NOTHING_NEW_SET_ASIDE",
                                PARTIAL)
    return units


def check_ship_together(shipping: Shipping, others: list[Status],
                        what: str = "back order") -> None:
    """A part of a ship-together order ships only once no back order of it waits
    (``others``: the statuses of the order's other back orders)."""
    if shipping is Shipping.SHIP_TOGETHER and any(s in QUEUED_STATUSES for s in others):
        raise InvalidTransition(what, TOGETHER_STATE, Status.SHIPPED.value)
