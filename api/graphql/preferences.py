"""Notification preferences in GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.domain.model import Channel as ChannelValue
from api.domain.model import NotificationEvent as NotificationEventValue
from api.graphql.enums import Channel, NotificationEvent
from api.graphql.errors import ForbiddenError, InvalidInputError
from api.graphql.fields import column, helper
from api.services.preferences import PreferencesInput


@strawberry.type(description=(
    "Where and about what a customer hears of changes; seen by the customer and by staff."))
class NotificationPreferences:
    customer_id: str = strawberry.field(
        description="The customer's id (the subject of their token).")
    email: str | None = strawberry.field(description="Where EMAIL messages go; null if none.")
    phone: str | None = strawberry.field(
        description="Where SMS messages go, in international form; null if none.")
    push_target: str | None = strawberry.field(
        description="Where PUSH messages go (a device token or push topic); null if none.")
    channels: list[Channel] = column(
        "_channels(r.channels)",
        description="The channels messages go on; empty means no messages.")
    events: list[NotificationEvent] = column(
        "_events(r.events)", description="Empty means every event.")
    opted_out: bool = strawberry.field(description="True: no messages at all.")
    updated_at: datetime | None = strawberry.field(
        description="When they were last set (ISO 8601, UTC); null if never.")


@helper
def _channels(stored: list[str] | None) -> list[ChannelValue]:
    return [ChannelValue(c) for c in stored or []]


@helper
def _events(stored: list[str] | None) -> list[NotificationEventValue]:
    return [NotificationEventValue(e) for e in stored or []]


@strawberry.input(description="A customer's preferences; they replace the ones before.")
class NotificationPreferencesInput:
    email: str | None = strawberry.field(
        default=None, description="An email address; needed for the EMAIL channel.")
    phone: str | None = strawberry.field(default=None, description=(
        "A phone number in international form (+ and digits); needed for SMS."))
    push_target: str | None = strawberry.field(
        default=None, description="A device token or push topic; needed for PUSH.")
    channels: list[Channel] = strawberry.field(
        default_factory=list, description="EMAIL, SMS or PUSH (STAFF is refused).")
    events: list[NotificationEvent] = strawberry.field(
        default_factory=list, description=(
            "Empty means every event; the staff alerts (CAP_REACHED, RESTOCK_OVERDUE) are "
            "refused."))
    opted_out: bool = strawberry.field(default=False, description="True: no messages at all.")
    customer_id: str | None = strawberry.field(default=None, description=(
        "Staff only: whose preferences to set; null for the signed-in customer's own."))

    def to_service(self) -> PreferencesInput:
        return PreferencesInput(
            email=self.email, phone=self.phone, push_target=self.push_target,
            channels=list(self.channels), events=list(self.events), opted_out=self.opted_out,
        )


@strawberry.type(description="The preferences as they are now.")
class NotificationPreferencesPayload:
    preferences: NotificationPreferences = strawberry.field(description="The preferences.")


NotificationPreferencesResult = Annotated[
    Union[NotificationPreferencesPayload, InvalidInputError, ForbiddenError],  # noqa: UP007
    strawberry.union("NotificationPreferencesResult",
                     description="The preferences, or why nothing was changed."),
]
