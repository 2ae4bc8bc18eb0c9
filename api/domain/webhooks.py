"""Webhooks' rules: which events an endpoint may want, what a URL and a secret must be, which
addresses a delivery may reach, what an answer means, and when to try again.

Standard library only; no clock reads (``now`` and the random draw are passed in).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from api.domain.errors import InvalidInput
from api.domain.validation import UNPRINTABLE

MAX_URL_CHARS = 2000
SECRET_PREFIX = "whsec_"
SECRET_BYTES = (24, 64)
"""A secret's key, decoded: at least 192 bits (the Standard Webhooks libraries' own range)."""
MAX_DESCRIPTION_CHARS = 200


class WebhookEvent(StrEnum):
    """What an endpoint may ask for: the changes a subscription would see."""

    BACK_ORDER_UPDATED = "BACK_ORDER_UPDATED"
    PRODUCT_UPDATED = "PRODUCT_UPDATED"

    @property
    def type(self) -> str:
        """The event's name on the wire (the body's ``type``)."""
        return EVENT_TYPES[self]


EVENT_TYPES = {WebhookEvent.BACK_ORDER_UPDATED: "back_order.updated",
               WebhookEvent.PRODUCT_UPDATED: "product.updated"}
TOPIC_EVENTS = {"back_order": WebhookEvent.BACK_ORDER_UPDATED,
                "product": WebhookEvent.PRODUCT_UPDATED}
"""The outbox's topic of each event (``api/services/changes.py`` writes them)."""


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"
    """Every attempt failed: kept for staff to retry, and no longer holding back the
    endpoint's later deliveries about the same back order or product."""


OPEN_DELIVERY_STATUSES = frozenset({DeliveryStatus.PENDING, DeliveryStatus.SENDING})
"""An open delivery holds back the later ones of its endpoint about the same thing."""


def webhook_id(delivery_id: int) -> str:
    """The ``webhook-id`` of a delivery: the same on every attempt, so a receiver that has
    seen it can drop the retry."""
    return f"msg_{delivery_id}"


def events(wanted: Iterable[WebhookEvent]) -> list[WebhookEvent]:
    """The events an endpoint wants, each once, in a stable order; at least one."""
    chosen = sorted(set(wanted))
    if not chosen:
        raise InvalidInput("events", "name at least one event")
    return chosen


def url(value: str, field: str = "url") -> str:
    """An absolute http(s) URL without credentials or fragment."""
    if len(value) > MAX_URL_CHARS:
        raise InvalidInput(field, f"at most {MAX_URL_CHARS} characters")
    if UNPRINTABLE.search(value) or any(c.isspace() for c in value):
        raise InvalidInput(field, "must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(field, f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(field, "must start with https:// or http://")
    if not parts.hostname:
        raise InvalidInput(field, "names no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(field, "must not carry credentials; sign with the secret instead")
    if parts.fragment:
        raise InvalidInput(field, "must not have a #fragment")
    if port == 0:
        raise InvalidInput(field, "port 0 is no port")
    return value


def literal_address_allowed(value: str, allow_private: bool, field: str = "url") -> str:
    """Refuse at once a URL whose host is a private or loopback address or ``localhost``
    when those are not allowed (names are checked again when resolved, at each delivery)."""
    host = (urlsplit(value).hostname or "").rstrip(".").lower()
    if allow_private:
        return value
    if host == "localhost" or host.endswith(".localhost"):
        raise InvalidInput(field, "loopback hosts are refused here "
                           "(BACKORDERS_WEBHOOK_ALLOW_PRIVATE)")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return value
    if not public(address):
        raise InvalidInput(field, f"{address} is not a public address "
                           "(BACKORDERS_WEBHOOK_ALLOW_PRIVATE)")
    return value


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address on the internet: not loopback, private, link-local (cloud metadata at
    169.254.169.254), multicast, reserved or unspecified; IPv4 inside IPv6 judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour or (
            address.teredo[1] if address.teredo else None)
        if mapped is not None:
            return public(mapped)
    return address.is_global and not address.is_multicast


def secret(value: str, field: str = "secret") -> str:
    """``whsec_`` and the base64 of a 24 to 64 byte key, as Standard Webhooks writes it."""
    if not value.startswith(SECRET_PREFIX):
        raise InvalidInput(field, f"must start with {SECRET_PREFIX} (Standard Webhooks form)")
    body = value[len(SECRET_PREFIX):]
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(field, f"after {SECRET_PREFIX} must come base64") from None
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        raise InvalidInput(field, f"the key must be {low} to {high} bytes; it is {len(key)}")
    return value


def description(value: str, field: str = "description") -> str:
    if UNPRINTABLE.search(value):
        raise InvalidInput(field, "must not contain control characters")
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(field, f"at most {MAX_DESCRIPTION_CHARS} characters")
    return value.strip()


@dataclass(frozen=True)
class Answer:
    """What a receiver's answer (or its absence) means for the delivery."""

    delivered: bool
    error: str | None = None


def judge(status: int | None, failure: str | None = None) -> Answer:
    """2xx is delivered; anything else (a redirect, which is never followed, 4xx, 5xx, a
    timeout or a refused connection) is a failure to retry."""
    if status is None:
        return Answer(False, failure or "no answer")
    if 200 <= status < 300:
        return Answer(True)
    if 300 <= status < 400:
        return Answer(False, f"HTTP {status}: redirects are not followed; register the "
                             "final URL")
    return Answer(False, f"HTTP {status}")


def signing_secrets(current: str, previous: str | None, previous_until: datetime | None,
                    now: datetime) -> list[str]:
    """The secrets a delivery is signed with: the current one, and after a rotation the
    previous one until its overlap ends (``previous_until``), so a receiver can move to the
    new secret without refusing a delivery."""
    if previous is not None and previous_until is not None and now < previous_until:
        return [current, previous]
    return [current]
