"""Rules over a back order's messages: which a later one makes moot, and which are open.

A customer's messages about one back order on one channel go out in the order they were
written: a message waits while an earlier one is open (waiting or being sent). A message
that has not gone out yet is dropped, with the reason, when a later change makes it moot:
"you are number 1 in line" once it has shipped, a date once it is set aside.
"""

from __future__ import annotations

from .model import NotificationStatus

OPEN_STATUSES = frozenset({NotificationStatus.PENDING, NotificationStatus.SENDING})
"""A message in one of these holds back the later messages of its recipient and back order;
one sent, failed, set aside or suppressed does not."""

RETRYABLE_STATUSES = frozenset({NotificationStatus.SET_ASIDE, NotificationStatus.FAILED})
"""Staff may send these again."""

MOOTS: dict[str, frozenset[str]] = {
    "PLACED": frozenset(),
    "DATE_CHANGED": frozenset(),
    "PRIORITY_CHANGED": frozenset({"DATE_CHANGED", "PRIORITY_CHANGED"}),
    "ALLOCATED": frozenset({"DATE_CHANGED", "DELAY_OFFER", "ALLOCATED", "PRIORITY_CHANGED"}),
    "DELAY_OFFER": frozenset({"DATE_CHANGED", "DELAY_OFFER"}),
    "DELAY_ACCEPTED": frozenset({"DELAY_OFFER"}),
    "SHIPPED": frozenset({"PLACED", "DATE_CHANGED", "ALLOCATED", "DELAY_OFFER",
                          "PRIORITY_CHANGED", "RELEASE_DATE_MOVED", "RELEASED", "EARLY_BIRD",
                          "AUTHORIZATION_EXPIRING"}),
    "CANCELLED": frozenset({"PLACED", "DATE_CHANGED", "ALLOCATED", "DELAY_OFFER",
                            "PRIORITY_CHANGED", "RELEASE_DATE_MOVED", "RELEASED",
                            "EARLY_BIRD", "AUTHORIZATION_EXPIRING"}),
    "RELEASE_DATE_MOVED": frozenset(),
    "RELEASED": frozenset({"RELEASE_DATE_MOVED"}),
    "EARLY_BIRD": frozenset(),
    "BALANCE_CHARGED": frozenset(),
    "AUTHORIZATION_EXPIRING": frozenset(),
}
"""A later event -> the events of the same back order it makes moot, when not yet sent.
A back order that shipped or was cancelled leaves nothing to say about its place in line,
its date or its allocation; a new allocation or delay offer replaces an older one; an
answered offer is not sent after the answer."""


ABSORBS: dict[str, frozenset[str]] = {
    "PLACED": frozenset({"EARLY_BIRD"}),
    "ALLOCATED": frozenset({"BALANCE_CHARGED"}),
    "RELEASED": frozenset({"ALLOCATED", "DATE_CHANGED", "DELAY_OFFER", "EARLY_BIRD",
                           "BALANCE_CHARGED"}),
    "RELEASE_DATE_MOVED": frozenset({"DATE_CHANGED", "DELAY_OFFER"}),
}
"""Events whose message, in one change, says what the messages of these others would: a
pre-order's release says whether it is set aside and its date (and a delay, with the
offer, and an early bird's mark); a moved release date says the new day and a delay; a new
pre-order says it is an early bird; units set aside say what they were charged. So the
customer hears once. Only for a customer who
hears the absorbing event: one who chose ALLOCATED and not RELEASED gets ALLOCATED
(``api/services/messages.py``). A shop's own ``placed.j2`` should say ``early_bird``."""

FOLDS: dict[str, tuple[str, str]] = {
    "DATE_CHANGED": ("previous_date", "estimated_ship_date"),
    "RELEASE_DATE_MOVED": ("previous_release_date", "release_date"),
}
"""Events of which a pending message takes in a later one (event -> its (first value,
final value) keys): a burst of moves is one message from the first value to the final
one, and none when the value came back to where it was."""


def absorbed(events: set[str]) -> frozenset[str]:
    """Of one change's events for one back order, those another one's message says."""
    return frozenset().union(*(ABSORBS.get(event, frozenset()) for event in events))


def moots(later: str) -> frozenset[str]:
    """The events a later ``later`` makes moot (none for an event not listed)."""
    return MOOTS.get(later, frozenset())


def moot_reason(later: str) -> str:
    return f"made moot by a later {later.lower().replace('_', ' ')} message"
