"""Notification preferences in GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.domain.model import Channel as ChannelValue
from api.domain.model import NotificationEvent as NotificationEventValue
from api.graphql.errors import ForbiddenError, InvalidInputError
from api.services.preferences import PreferencesInput
from api.store import models

Channel = strawberry.enum(ChannelValue, name="Channel")
NotificationEvent = strawberry.enum(NotificationEventValue, name="NotificationEvent")


@strawberry.type
class NotificationPreferences:
    customer_id: str
    email: str | None
    phone: str | None
    push_target: str | None
    channels: list[Channel]  # type: ignore[valid-type]
    events: list[NotificationEvent] = strawberry.field(  # type: ignore[valid-type]
        description="Empty means every event.")
    opted_out: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, row: models.NotificationPreferences) -> NotificationPreferences:
        return cls(
            customer_id=row.customer_id, email=row.email, phone=row.phone,
            push_target=row.push_target,
            channels=[ChannelValue(c) for c in row.channels or []],
            events=[NotificationEventValue(e) for e in row.events or []],
            opted_out=row.opted_out, updated_at=row.updated_at,
        )


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
