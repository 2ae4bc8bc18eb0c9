"""Queue positions and estimated ship dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.domain.allocation import orderable_units
from api.domain.model import Policy, QueueEntry, Stock, Supply


@dataclass(frozen=True)
class Estimate:
    position: int
    units_ahead: int
    ship_date: date
    scheduled: bool
    """True when scheduled supply covers it; False for the lead-time fallback."""


def allocated_ship_date(policy: Policy, today: date) -> date:
    """When an allocated back order ships: after handling, never before release."""
    return _not_before_release(today + timedelta(days=policy.handling_days), policy)


def estimate_queue(
    queue: Sequence[QueueEntry],
    free_units: int,
    supplies: Sequence[Supply],
    policy: Policy,
    today: date,
    units_before: int = 0,
    first_position: int = 1,
    floor: date | None = None,
) -> dict[int, Estimate]:
    """Estimates for ``queue`` (in queue order, waiting entries only).

    Supply is the free units now, then scheduled restocks by expected date. An entry is
    covered when cumulative supply reaches the units ahead of it plus its own remaining
    units. ``units_before``/``first_position``/``floor`` let a caller estimate the tail of a
    longer queue. Dates never decrease along the queue.
    """
    ordered = sorted(supplies, key=lambda s: s.expected)
    result: dict[int, Estimate] = {}
    supply_index = 0
    cumulative = max(free_units, 0)
    cover_date = today
    previous = floor or today
    ahead = units_before
    for offset, entry in enumerate(queue):
        need = ahead + entry.remaining
        while cumulative < need and supply_index < len(ordered):
            cumulative += ordered[supply_index].units
            cover_date = max(cover_date, ordered[supply_index].expected)
            supply_index += 1
        scheduled = cumulative >= need
        if scheduled:
            ship = max(cover_date, today) + timedelta(days=policy.handling_days)
        else:
            ship = today + timedelta(days=max(policy.lead_time_days, policy.handling_days))
        ship = max(_not_before_release(ship, policy), previous)
        result[entry.id] = Estimate(first_position + offset, ahead, ship, scheduled)
        previous = ship
        ahead = need
    return result


def is_delayed(estimate: date, promised: date, policy: Policy) -> bool:
    """The estimate slipped past the promised date by more than the policy's grace."""
    return estimate > promised + timedelta(days=policy.delay_grace_days)


def _not_before_release(day: date, policy: Policy) -> date:
    if policy.release_date is not None and day < policy.release_date:
        return policy.release_date
    return day


def quote(
    stock: Stock,
    policy: Policy,
    discontinued: bool,
    quantity: int,
    supplies: Sequence[Supply],
    tail_date: date | None,
    today: date,
) -> date | None:
    """When an order for ``quantity`` placed now would ship in full; None if it cannot be.

    The same rules as placing the order: free units first when nobody waits, the rest at
    the tail of the queue, never earlier than the tail's date.
    """
    if quantity > orderable_units(stock, policy, discontinued, today):
        return None
    free = max(stock.available, 0) if stock.waiting == 0 else 0
    if policy.is_preorder(today):  # the units on hand go to the pre-orders on release
        short, free_for_queue = quantity, max(stock.available, 0)
    else:
        short, free_for_queue = max(quantity - free, 0), 0
    if short == 0:
        return allocated_ship_date(policy, today)
    probe = QueueEntry(0, 0, datetime.max, short, 0)
    estimate = estimate_queue([probe], free_for_queue, supplies, policy, today,
                              units_before=stock.waiting, floor=tail_date)
    return estimate[0].ship_date
