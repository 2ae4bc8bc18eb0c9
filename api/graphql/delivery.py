"""The delivery log: every message, its attempts and outcome."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.domain.model import NotificationStatus as NotificationStatusValue
from api.graphql.context import Info
from api.graphql.fields import column, executor_field, helper
from api.store import models

NotificationStatus = strawberry.enum(NotificationStatusValue, name="NotificationStatus")


@strawberry.type
class DeliveryAttempt:
    number: int
    outcome: str = strawberry.field(description="SENT, FAILED, or UNKNOWN (sender stopped).")
    error: str | None
    worker: str
    at: datetime


@strawberry.type
class Notification:
    id: strawberry.ID
    event: str
    channel: str
    status: NotificationStatus  # type: ignore[valid-type]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    back_order_id: strawberry.ID | None
    set_aside: str | None = strawberry.field(description=(
        "Why it was set aside (status SET_ASIDE), never to be tried again unless staff retry "
        "it: template, refused (a permanent refusal) or service_url; lastError says more."))
    address: str = column("mask(r.address)", description="Where it went, partly masked.")

    @executor_field("loads a list")
    async def attempt_log(root: models.Notification, info: Info
                          ) -> list[DeliveryAttempt]:
        return await info.context.loaders.attempts.load(root.id)  # type: ignore[return-value]


@helper
def mask(address: str) -> str:
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(address) > 4:
        return "*" * (len(address) - 4) + address[-4:]
    return "***"
