"""A customer's notification preferences: where to reach them, and about what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.errors import InvalidInput
from api.domain.identity import Actor, require_owner_or_staff
from api.domain.model import CUSTOMER_CHANNELS, STAFF_EVENTS, Channel, NotificationEvent
from api.services import inputs
from api.store.models import NotificationPreferences

ADDRESS_FOR = {Channel.EMAIL: "email", Channel.SMS: "phone", Channel.PUSH: "pushTarget"}


@dataclass(frozen=True)
class PreferencesInput:
    email: str | None
    phone: str | None
    push_target: str | None
    channels: Sequence[Channel]
    events: Sequence[NotificationEvent]
    opted_out: bool


async def get_preferences(actor: Actor | None, customer_id: str) -> NotificationPreferences:
    require_owner_or_staff(actor, customer_id)
    found = await NotificationPreferences.filter(customer_id=customer_id).first()
    return found or NotificationPreferences(customer_id=customer_id)


async def set_preferences(
    actor: Actor | None, wanted: PreferencesInput, customer_id: str | None = None
) -> NotificationPreferences:
    """Replace the customer's preferences; an empty ``events`` list means every event."""
    if customer_id is not None:
        inputs.customer_id(customer_id)
    customer = customer_id or (actor.subject if actor else "")
    require_owner_or_staff(actor, customer)
    values = _checked(wanted)
    for attempt in range(2):
        try:
            async with in_transaction():
                row = await NotificationPreferences.filter(
                    customer_id=customer).select_for_update().first()
                if row is None:
                    return await NotificationPreferences.create(customer_id=customer, **values)
                row.update_from_dict(values)
                await row.save()
                return row
        except IntegrityError:
            if attempt:  # a twin request created the row first; update it
                raise
    raise AssertionError("unreachable")


def _checked(wanted: PreferencesInput) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": validation.email(wanted.email, "email", inputs.EMAIL),
        "phone": validation.phone(wanted.phone, "phone", inputs.PHONE),
        "push_target": validation.text(wanted.push_target or "", "pushTarget",
                                       inputs.PUSH_TARGET, required=False) or None,
        "channels": sorted({c.value for c in wanted.channels}),
        "events": sorted({e.value for e in wanted.events}),
        "opted_out": wanted.opted_out,
    }
    for channel in wanted.channels:
        if channel not in CUSTOMER_CHANNELS:
            raise InvalidInput("channels", f"{channel.value} is the staff's channel")
    for event in wanted.events:
        if event in STAFF_EVENTS:
            raise InvalidInput("events", f"{event.value} is a staff alert")
    for channel in wanted.channels:
        field = ADDRESS_FOR[channel]
        key = "push_target" if field == "pushTarget" else field
        if values[key] is None:
            raise InvalidInput(field, f"needed for the {channel.value} channel")
    return values
