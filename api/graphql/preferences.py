"""Notification preferences in GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.domain.model import Channel as ChannelValue
from api.domain.model import NotificationEvent as NotificationEventValue
from api.graphql.errors import ForbiddenError, InvalidInputError
from api.graphql.fields import column, helper
from api.services.preferences import PreferencesInput

Channel = strawberry.enum(ChannelValue, name="Channel")
NotificationEvent = strawberry.enum(NotificationEventValue, name="NotificationEvent")


@strawberry.type
class NotificationPreferences:
    customer_id: str
    email: str | None
    phone: str | None
    push_target: str | None
    channels: list[Channel] = column("_channels(r.channels)")  # type: ignore[valid-type]
    events: list[NotificationEvent] = column(  # type: ignore[valid-type]
        "_events(r.events)", description="Empty means every event.")
    opted_out: bool
    updated_at: datetime | None


@helper
def _channels(stored: list[str] | None) -> list[ChannelValue]:
    return [ChannelValue(c) for c in stored or []]


@helper
def _events(stored: list[str] | None) -> list[NotificationEventValue]:
    return [NotificationEventValue(e) for e in stored or []]


@strawberry.input
class NotificationPreferencesInput:
    email: str | None = None
    phone: str | None = strawberry.field(default=None, description="International form.")
    push_target: str | None = strawberry.field(
        default=None, description="A device token or push topic.")
    channels: list[Channel] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    events: list[NotificationEvent] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Empty means every event.")
    opted_out: bool = False
    customer_id: str | None = strawberry.field(default=None, description="Staff only.")

    def to_service(self) -> PreferencesInput:
        return PreferencesInput(
            email=self.email, phone=self.phone, push_target=self.push_target,
            channels=list(self.channels), events=list(self.events), opted_out=self.opted_out,
        )


@strawberry.type
class NotificationPreferencesPayload:
    preferences: NotificationPreferences


NotificationPreferencesResult = Annotated[
    Union[NotificationPreferencesPayload, InvalidInputError, ForbiddenError],  # noqa: UP007
    strawberry.union("NotificationPreferencesResult"),
]
