"""Delivery through Apprise: one message to one address on one configured service."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import apprise

from notifiers.messages import Message


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None


def target_url(template: str, address: str) -> str:
    """The service URL for one recipient: ``{to}`` in the template becomes the address."""
    return template.replace("{to}", quote(address, safe="@+"))


async def deliver(message: Message, url_template: str, address: str,
                  service_timeout: float = 15.0) -> Outcome:
    """Send ``message``; never raises for a delivery failure, it returns it."""
    service = apprise.Apprise()
    if not service.add(target_url(url_template, address)):
        return Outcome(False, "the notification service URL is not valid")
    try:
        result = await service.async_notify(
            body=message.html or message.body,
            title=message.title,
            body_format=apprise.NotifyFormat.HTML if message.html else apprise.NotifyFormat.TEXT,
            timeout=service_timeout,
        )
    except Exception as exc:  # a plugin that raises is a failed delivery, not a crash
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    if result:
        return Outcome(True)
    problems = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
    return Outcome(False, (problems[-1] if problems else "delivery failed")[:500])
