"""Staff's use of the delivery log: send again a message that was set aside or failed."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from api.domain.errors import InvalidTransition, NotFound
from api.domain.identity import Actor, require_staff
from api.domain.model import NotificationStatus
from api.domain.notices import RETRYABLE_STATUSES
from api.services.clock import utcnow
from api.store.models import Notification


async def retry_notification(actor: Actor | None, notification_id: int) -> Notification:
    """A message set aside or failed goes back to the queue, due now; it keeps its attempt
    log (and count: one that failed for good gets one more try)."""
    require_staff(actor)
    async with in_transaction():
        row = await Notification.filter(id=notification_id).select_for_update().first()
        if row is None:
            raise NotFound("notification", str(notification_id))
        if row.status not in RETRYABLE_STATUSES:
            raise InvalidTransition("notification", row.status.value,
                                    NotificationStatus.PENDING.value)
        row.status = NotificationStatus.PENDING
        row.due_at = utcnow()
        row.set_aside = None
        await row.save(update_fields=["status", "due_at", "set_aside", "updated_at"])
    return row
