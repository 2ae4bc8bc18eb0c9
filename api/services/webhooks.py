"""Staff's webhook endpoints and their delivery log: one function per use case.

Each checks every input before it writes, so a bad URL, event list or secret changes
nothing. A secret is written and rotated, never read back: no function here returns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from api.domain import webhooks as rules
from api.domain.errors import InvalidInput, InvalidTransition, NotFound
from api.domain.identity import Actor, require_staff
from api.domain.webhooks import DeliveryStatus, WebhookEvent
from api.services.clock import utcnow
from api.services.reads import Page, id_page
from api.store.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

MAX_OVERLAP_HOURS = 24 * 30


@dataclass(frozen=True)
class EndpointChange:
    """What updateWebhookEndpoint changes; None keeps a value."""

    url: str | None = None
    events: Sequence[WebhookEvent] | None = None
    description: str | None = None
    enabled: bool | None = None


def _url(value: str, allow_private: bool) -> str:
    return rules.literal_address_allowed(rules.url(value.strip()), allow_private)


async def create_endpoint(actor: Actor | None, url: str, events: Sequence[WebhookEvent],
                          secret: str, description: str, allow_private: bool
                          ) -> WebhookEndpoint:
    staff = require_staff(actor)
    checked_url = _url(url, allow_private)
    wanted = rules.events(events)
    checked_secret = rules.secret(secret)
    text = rules.description(description)
    now = utcnow()
    return await WebhookEndpoint.create(
        url=checked_url, events=[e.value for e in wanted], secret=checked_secret,
        description=text, created_by=staff.subject, created_at=now)


async def update_endpoint(actor: Actor | None, endpoint_id: int, change: EndpointChange,
                          allow_private: bool) -> WebhookEndpoint:
    require_staff(actor)
    fields: dict[str, object] = {}
    if change.url is not None:
        fields["url"] = _url(change.url, allow_private)
    if change.events is not None:
        fields["events"] = [e.value for e in rules.events(change.events)]
    if change.description is not None:
        fields["description"] = rules.description(change.description)
    if change.enabled is not None:
        fields["enabled"] = change.enabled
    async with in_transaction():
        row = await _locked(endpoint_id)
        if fields:
            row.update_from_dict(fields)
            await row.save(update_fields=[*fields, "updated_at"])
    return row


async def rotate_secret(actor: Actor | None, endpoint_id: int, secret: str,
                        overlap_hours: float) -> WebhookEndpoint:
    """The new secret signs from now on; the old one signs beside it for ``overlap_hours``
    (0: at once no more), so a receiver can switch without refusing a delivery."""
    require_staff(actor)
    checked = rules.secret(secret)
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise InvalidInput("overlapHours", f"0 to {MAX_OVERLAP_HOURS} hours")
    async with in_transaction():
        row = await _locked(endpoint_id)
        if checked == row.secret:
            raise InvalidInput("secret", "is the endpoint's current secret; choose a new one")
        now = utcnow()
        row.previous_secret = row.secret if overlap_hours > 0 else None
        row.previous_secret_until = (now + timedelta(hours=overlap_hours)
                                     if overlap_hours > 0 else None)
        row.secret = checked
        await row.save(update_fields=["secret", "previous_secret", "previous_secret_until",
                                      "updated_at"])
    return row


async def delete_endpoint(actor: Actor | None, endpoint_id: int) -> int:
    """The endpoint goes, and its deliveries with it (none is sent after this commits)."""
    require_staff(actor)
    async with in_transaction():
        row = await _locked(endpoint_id)
        await row.delete()
    return endpoint_id


async def retry_delivery(actor: Actor | None, delivery_id: int) -> WebhookDelivery:
    """A DEAD delivery goes back to the queue, due now, with its attempt log (and one more
    attempt before it is dead again)."""
    require_staff(actor)
    async with in_transaction():
        row = await WebhookDelivery.filter(id=delivery_id).select_for_update().first()
        if row is None:
            raise NotFound("webhook delivery", str(delivery_id))
        if row.status is not DeliveryStatus.DEAD:
            raise InvalidTransition("webhook delivery", row.status.value,
                                    DeliveryStatus.PENDING.value)
        row.status = DeliveryStatus.PENDING
        row.due_at = utcnow()
        row.attempts = max(row.attempts - 1, 0)
        await row.save(update_fields=["status", "due_at", "attempts", "updated_at"])
    return row


async def _locked(endpoint_id: int) -> WebhookEndpoint:
    row = await WebhookEndpoint.filter(id=endpoint_id).select_for_update().first()
    if row is None:
        raise NotFound("webhook endpoint", str(endpoint_id))
    return row


async def list_endpoints(actor: Actor | None, first: int, after: str | None
                         ) -> Page[WebhookEndpoint]:
    require_staff(actor)
    return await id_page(WebhookEndpoint.all(), first, after, newest_first=False)


async def list_deliveries(actor: Actor | None, first: int, after: str | None,
                          endpoint_id: int | None, statuses: Sequence[DeliveryStatus] | None
                          ) -> Page[WebhookDelivery]:
    """Newest first."""
    require_staff(actor)
    base = WebhookDelivery.all()
    if endpoint_id is not None:
        base = base.filter(endpoint_id=endpoint_id)
    if statuses:
        base = base.filter(status__in=list(statuses))
    return await id_page(base, first, after)


async def attempts_of(delivery_id: int) -> list[WebhookAttempt]:
    return await WebhookAttempt.filter(delivery_id=delivery_id).order_by("id")
