"""Notify-me lists and holds (issue 16, part 1), as rules.

A customer joins a product's waitlist when it is out of stock, without paying. When units
become free and no back order waits for them, waitlisters are offered a hold in the order
they joined: the head is offered what it asked for, or what is left; nobody behind it is
offered a unit while it is short (``allocation.head_first``, as for back orders). A held
unit is stock nobody else may take until the hold is claimed (an order at the held price),
left or expired; an expired or left hold's units pass to the next waitlisters the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.domain.allocation import head_first
from api.domain.errors import InvalidInput, InvalidTransition
from api.domain.model import WaitlistStatus

HOLD_MINUTES_RANGE = (1, 60 * 24 * 30)
"""A hold lasts from one minute to thirty days (the shop's setting)."""


@dataclass(frozen=True)
class Waiter:
    """A waitlister still waiting, as the offer sees it."""

    id: int
    wanted: int


@dataclass(frozen=True)
class Hold:
    entry_id: int
    units: int


@dataclass(frozen=True)
class HoldPolicy:
    """How long a hold lasts and when its holder is reminded (0: never)."""

    minutes: int = 24 * 60
    remind_before_minutes: int = 120

    def __post_init__(self) -> None:
        low, high = HOLD_MINUTES_RANGE
        if not low <= self.minutes <= high:
            raise InvalidInput("holdMinutes", f"must be between {low} and {high}")
        if not 0 <= self.remind_before_minutes < self.minutes:
            raise InvalidInput("holdReminderMinutes",
                               "must be 0 (no reminder) or less than the hold lasts")

    def expires_at(self, offered_at: datetime) -> datetime:
        return offered_at + timedelta(minutes=self.minutes)

    def reminder_due(self, expires_at: datetime, reminded_at: datetime | None,
                     now: datetime) -> bool:
        """The holder is reminded once, in the last ``remind_before_minutes`` of the hold."""
        if self.remind_before_minutes == 0 or reminded_at is not None:
            return False
        return expires_at - timedelta(minutes=self.remind_before_minutes) <= now < expires_at


def offer_holds(free: int, waiters: Sequence[Waiter]) -> list[Hold]:
    """Hold ``free`` units for ``waiters`` (in join order), head first; the last one offered
    may be offered part of what it wants."""
    return [Hold(key, take)
            for key, take in head_first(free, [(w.id, w.wanted) for w in waiters])]


def hold_expired(expires_at: datetime | None, now: datetime) -> bool:
    """A hold is over at its expiry instant (a claim at that instant is too late)."""
    return expires_at is not None and now >= expires_at


def check_claim(status: WaitlistStatus, expires_at: datetime | None, now: datetime) -> None:
    """A hold can be claimed while it lasts; anything else says where the entry stands."""
    if status is WaitlistStatus.HOLDING and hold_expired(expires_at, now):
        raise InvalidTransition("waitlist entry", WaitlistStatus.EXPIRED.value,
                                WaitlistStatus.CLAIMED.value)
    if status is not WaitlistStatus.HOLDING:
        raise InvalidTransition("waitlist entry", status.value, WaitlistStatus.CLAIMED.value)
