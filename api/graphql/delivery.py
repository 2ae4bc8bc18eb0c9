"""The delivery log: every message, its attempts and outcome."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.domain.model import Channel as ChannelValue
from api.domain.model import NotificationEvent as NotificationEventValue
from api.graphql.context import Info
from api.graphql.enums import Channel, NotificationEvent, NotificationStatus
from api.graphql.fields import column, executor_field, helper
from api.store import models

__all__ = ["Notification", "NotificationStatus"]


@strawberry.type(description="One try at sending a message; staff only.")
class DeliveryAttempt:
    number: int = strawberry.field(description="1 for the first try, and so on.")
    outcome: str = strawberry.field(description="SENT, FAILED, or UNKNOWN (sender stopped).")
    error: str | None = strawberry.field(
        description="What went wrong (addresses and secrets removed); null when sent.")
    worker: str = strawberry.field(description="The dispatcher that made it.")
    at: datetime = strawberry.field(description="When it ended (ISO 8601, UTC).")


@strawberry.type(description=(
    "One message to one address on one channel: the delivery log. Staff see every one "
    "(`notifications`); a customer sees those of their own back orders."))
class Notification:
    id: strawberry.ID = strawberry.field(description="The message's id.")
    event: NotificationEvent = column(
        "_event(r.event)", description="What it is about.")
    channel: Channel = column(
        "_channel(r.channel)", description="How it is sent.")
    status: NotificationStatus = strawberry.field(
        description="Where it stands.")
    attempts: int = strawberry.field(description="Tries so far.")
    last_error: str | None = strawberry.field(
        description="Why the last try failed, or why it was suppressed; null when none.")
    created_at: datetime = strawberry.field(
        description="When the change that caused it was committed (ISO 8601, UTC).")
    sent_at: datetime | None = strawberry.field(
        description="When it was sent (ISO 8601, UTC); null until then.")
    back_order_id: strawberry.ID | None = strawberry.field(
        description="The back order it is about; null for a staff alert about a product.")
    set_aside: str | None = strawberry.field(description=(
        "Why it was set aside (status SET_ASIDE), never to be tried again unless staff retry "
        "it: template, refused (a permanent refusal) or service_url; lastError says more."))
    address: str = column("mask(r.address)", description="Where it went, partly masked.")

    @executor_field("loads a list", description="Every try, oldest first.")
    async def attempt_log(root: models.Notification, info: Info
                          ) -> list[DeliveryAttempt]:
        return await info.context.loaders.attempts.load(root.id)  # type: ignore[return-value]


@helper
def _event(stored: str) -> NotificationEventValue:
    return NotificationEventValue(stored)


@helper
def _channel(stored: str) -> ChannelValue:
    return ChannelValue(stored)


@helper
def mask(address: str) -> str:
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(address) > 4:
        return "*" * (len(address) - 4) + address[-4:]
    return "***"
