"""Templates per event (Jinja2 files a shop can override) rendered for one channel."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

BUILT_IN = Path(__file__).parent / "templates"
CHANNELS = ("EMAIL", "SMS", "PUSH", "STAFF")
EVENTS = ("PLACED", "DATE_CHANGED", "ALLOCATED", "SHIPPED", "PARTIALLY_SHIPPED", "CANCELLED",
          "DELAY_OFFER", "DELAY_ACCEPTED", "PRIORITY_CHANGED", "COMPENSATED", "HOLD_OFFERED",
          "HOLD_EXPIRING", "HOLD_EXPIRED", "RELEASED", "RELEASE_DATE_MOVED", "EARLY_BIRD",
          "BALANCE_CHARGED", "AUTHORIZATION_EXPIRING", "RESTOCK_OVERDUE", "CAP_REACHED")
SMS_LIMIT = 160
ADDED_LATER: dict[str, Any] = {
    "shipped": 0, "shipped_now": 0, "cancel_by": None, "credit_amount": "0.00",
    "pre_order": False, "release_date": None, "previous_release_date": None, "delayed": False,
    "early_bird": False, "early_bird_bonus": None, "payment_mode": "IN_FULL",
    "paid_amount": "0.00", "balance_due": "0.00", "owes": False, "charged_amount": None,
    "authorized_amount": "0.00", "authorization_valid_until": None,
}
"""Template values that a message queued by an earlier version lacks, with what they meant
then (nothing shipped in parts, no pre-order, paid in full at order), so that a message still
waiting when the service is upgraded is sent as written instead of set aside as broken."""


@dataclass(frozen=True)
class Message:
    channel: str
    title: str
    body: str
    html: str | None = None


def units(count: int, word: str = "unit") -> str:
    """``no units``, ``1 unit``, ``3 units``: a count with its noun, for templates."""
    if count == 0:
        return f"no {word}s"
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def times(name: str, count: int) -> str:
    """``Keyboard`` for one, ``3 x Keyboard`` for more."""
    return name if count == 1 else f"{count} x {name}"


def are(count: int) -> str:
    """The verb that agrees with ``count``: ``is`` for one, ``are`` otherwise."""
    return "is" if count == 1 else "are"


@lru_cache(maxsize=8)
def _environment(override: str | None) -> Environment:
    loaders = [FileSystemLoader(override)] if override else []
    environment = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(str(BUILT_IN))]),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters.update(units=units, are=are, times=times)
    return environment


def _block(event: str, name: str, data: dict[str, Any], override: str | None) -> str:
    template = _environment(override).get_template(f"{event.lower()}.j2")
    context = template.new_context(data)
    return "".join(template.blocks[name](context)).strip()


def _positive(amount: Any) -> bool:
    try:
        return float(amount or 0) > 0
    except (TypeError, ValueError):
        return False


def render(event: str, channel: str, data: dict[str, Any],
           template_dir: str | None = None) -> Message:
    """The message for ``event`` on ``channel``; ``template_dir`` overrides built-ins."""
    data = {**ADDED_LATER, "refunded": _positive(data.get("refund_amount")), **data}
    if channel == "EMAIL" or channel == "STAFF":
        return Message(channel, _block(event, "email_subject", data, template_dir),
                       _block(event, "email_text", data, template_dir),
                       _block(event, "email_html", data, template_dir))
    if channel == "SMS":
        text = " ".join(_block(event, "sms", data, template_dir).split())
        if len(text) > SMS_LIMIT:
            text = text[: SMS_LIMIT - 1].rstrip() + "…"
        return Message(channel, "", text)
    if channel == "PUSH":
        return Message(channel, _block(event, "push_title", data, template_dir),
                       _block(event, "push_body", data, template_dir))
    raise ValueError(f"unknown channel {channel!r}")
