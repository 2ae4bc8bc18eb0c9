"""Plain values the rules work on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    WAITING = "WAITING"
    PARTIALLY_ALLOCATED = "PARTIALLY_ALLOCATED"
    ALLOCATED = "ALLOCATED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


OPEN_STATUSES = frozenset({Status.WAITING, Status.PARTIALLY_ALLOCATED, Status.ALLOCATED})
QUEUED_STATUSES = frozenset({Status.WAITING, Status.PARTIALLY_ALLOCATED})


class Availability(StrEnum):
    IN_STOCK = "IN_STOCK"
    LOW_STOCK = "LOW_STOCK"
    BACKORDERABLE = "BACKORDERABLE"
    PREORDER = "PREORDER"
    OUT_OF_STOCK = "OUT_OF_STOCK"


class Shipping(StrEnum):
    """How an order's parts ship (``api/domain/shipping.py``)."""

    SHIP_AS_ALLOCATED = "SHIP_AS_ALLOCATED"
    SHIP_TOGETHER = "SHIP_TOGETHER"


class WaitlistStatus(StrEnum):
    """A waitlister's place on a product's notify-me list (``api/domain/holds.py``)."""

    WAITING = "WAITING"
    HOLDING = "HOLDING"
    CLAIMED = "CLAIMED"
    EXPIRED = "EXPIRED"
    LEFT = "LEFT"


OPEN_WAITLIST_STATUSES = frozenset({WaitlistStatus.WAITING, WaitlistStatus.HOLDING})


class RestockStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Policy:
    """A product's back-order policy."""

    allow_backorders: bool = True
    cap: int | None = None
    lead_time_days: int = 14
    handling_days: int = 1
    release_date: date | None = None
    delay_grace_days: int = 2
    low_stock_threshold: int = 5
    customer_limit: int | None = None
    """At most this many units one customer may have on back order (or pre-order) at once;
    None for no limit."""
    pre_order_cap: int | None = None
    """While a pre-order: at most this many units waiting at once; None for the back-order
    ``cap``."""
    early_bird_size: int | None = None
    """The first this many pre-orders are early birds (``api/domain/preorders.py``)."""

    def is_preorder(self, today: date) -> bool:
        return self.release_date is not None and today < self.release_date


@dataclass(frozen=True)
class Stock:
    on_hand: int
    allocated: int
    waiting: int
    """Units of open back orders not yet allocated."""
    held: int = 0
    """Units held for waitlisters (``api/domain/holds.py``): nobody else may take them."""

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated - self.held


@dataclass(frozen=True)
class QueueEntry:
    """An open back order as the queue sees it."""

    id: int
    priority: int
    placed_at: datetime
    quantity: int
    allocated: int

    @property
    def remaining(self) -> int:
        return self.quantity - self.allocated


@dataclass(frozen=True)
class Supply:
    """Units still expected from one scheduled restock."""

    expected: date
    units: int


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"
    STAFF = "STAFF"
    """The logistics staff's alerts; no customer can choose it."""


CUSTOMER_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.PUSH})


class PaymentMode(StrEnum):
    """When a back-ordered unit is paid for (``api/domain/payments.py``)."""

    IN_FULL = "IN_FULL"
    DEPOSIT = "DEPOSIT"
    ON_RELEASE = "ON_RELEASE"


class ChargeKind(StrEnum):
    """One entry of an order's payment ledger."""

    CHARGE = "CHARGE"
    AUTHORIZATION = "AUTHORIZATION"
    CAPTURE = "CAPTURE"
    VOID = "VOID"
    REFUND = "REFUND"


class ChargeReason(StrEnum):
    IN_STOCK = "IN_STOCK"
    BACK_ORDER = "BACK_ORDER"
    DEPOSIT = "DEPOSIT"
    BALANCE = "BALANCE"
    RENEWAL = "RENEWAL"
    CANCELLATION = "CANCELLATION"


class ChargeState(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    AUTHORIZED = "AUTHORIZED"
    """An authorization with money still held."""
    CLOSED = "CLOSED"
    """An authorization captured or voided in full, or replaced by a renewal."""
    EXPIRED = "EXPIRED"
    """An authorization past its validity with money still held (the shop must charge
    again)."""


class NotificationEvent(StrEnum):
    """What a message is about: the events a customer can hear of, then the staff's alerts."""

    PLACED = "PLACED"
    DATE_CHANGED = "DATE_CHANGED"
    ALLOCATED = "ALLOCATED"
    SHIPPED = "SHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    CANCELLED = "CANCELLED"
    DELAY_OFFER = "DELAY_OFFER"
    DELAY_ACCEPTED = "DELAY_ACCEPTED"
    PRIORITY_CHANGED = "PRIORITY_CHANGED"
    COMPENSATED = "COMPENSATED"
    HOLD_OFFERED = "HOLD_OFFERED"
    HOLD_EXPIRING = "HOLD_EXPIRING"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    ACCESS_GRANTED = "ACCESS_GRANTED"
    RELEASED = "RELEASED"
    RELEASE_DATE_MOVED = "RELEASE_DATE_MOVED"
    EARLY_BIRD = "EARLY_BIRD"
    BALANCE_CHARGED = "BALANCE_CHARGED"
    AUTHORIZATION_EXPIRING = "AUTHORIZATION_EXPIRING"
    CAP_REACHED = "CAP_REACHED"
    RESTOCK_OVERDUE = "RESTOCK_OVERDUE"


STAFF_EVENTS = frozenset({NotificationEvent.CAP_REACHED, NotificationEvent.RESTOCK_OVERDUE})


class NotificationStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"
    SET_ASIDE = "SET_ASIDE"
    """It can never be rendered or sent as it is (a broken template, a permanent refusal):
    kept with its reason for staff to retry, and never holding back later messages."""
