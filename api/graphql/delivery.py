"""The delivery log: every message, its attempts and outcome."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.domain.model import NotificationStatus as NotificationStatusValue
from api.graphql.context import Info
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
    row: strawberry.Private[models.Notification]
    id: strawberry.ID
    event: str
    channel: str
    status: NotificationStatus  # type: ignore[valid-type]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    back_order_id: strawberry.ID | None

    @classmethod
    def of(cls, row: models.Notification) -> Notification:
        return cls(row=row, id=strawberry.ID(str(row.id)), event=row.event, channel=row.channel,
                   status=row.status, attempts=row.attempts, last_error=row.last_error,
                   created_at=row.created_at, sent_at=row.sent_at,
                   back_order_id=strawberry.ID(str(row.back_order_id))
                   if row.back_order_id else None)

    @strawberry.field(description="Where it went, partly masked.")
    def address(self) -> str:
        return mask(self.row.address)

    @strawberry.field
    async def attempt_log(self, info: Info) -> list[DeliveryAttempt]:
        return [
            DeliveryAttempt(number=a.number, outcome=a.outcome, error=a.error,
                            worker=a.worker, at=a.at)
            for a in await info.context.loaders.attempts.load(self.row.id)
        ]


def mask(address: str) -> str:
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(address) > 4:
        return "*" * (len(address) - 4) + address[-4:]
    return "***"
