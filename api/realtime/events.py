"""The events that travel between instances, and the hub keys they are addressed to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

CHANNEL = "backorders_events"
MAX_MESSAGE_BYTES = 7000
"""Below PostgreSQL's 8,000-byte NOTIFY limit (7,999 bytes of payload), with room to spare."""

T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    topic: str
    key: str
    payload: dict[str, Any]
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def rendered(self, render: Callable[[dict[str, Any]], Any]) -> Any:
        """``render(payload)``, once per event however many subscribers want it."""
        if render not in self.memo:
            self.memo[render] = render(self.payload)
        return self.memo[render]

    @property
    def version(self) -> int:
        return int(self.payload.get("version", 0))

    def addresses(self) -> list[str]:
        """Hub keys of the subscriptions that want this event."""
        p = self.payload
        if self.topic == "back_order":
            return [f"bo:{p['id']}", f"customer:{p['customer_id']}", f"queue:{p['product_id']}"]
        if self.topic == "product":
            return [f"product:{p['sku']}"]
        return []


class Unpublishable(ValueError):
    """An event that can never go out as it is: the relay sets it aside instead."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


ENVELOPE_BYTES = len("[[,,]]")
"""What one event's message adds to its topic, key and payload."""


def encode(topic: str, key: str, payload: str) -> str:
    """One event (the payload as JSON text, as the outbox holds it) as an item of a
    message; raises ``Unpublishable`` when it cannot be written or would never fit one."""
    try:
        item = f"[{_text(topic)},{_text(key)},{_json(payload)}]"
    except (TypeError, ValueError) as exc:
        raise Unpublishable("unencodable", f"{type(exc).__name__}: {exc}") from exc
    size = len(item.encode())
    if size + len("[]") > MAX_MESSAGE_BYTES:
        raise Unpublishable("too_large", f"{size + len('[]')} bytes, over {MAX_MESSAGE_BYTES}")
    return item


def batches(items: Iterable[tuple[T, str]]) -> Iterator[tuple[list[T], str]]:
    """Encoded items, each with a tag (a row id), grouped into as few messages as fit the
    size limit, in order: yields each message with the tags of the items in it."""
    tags: list[T] = []
    batch: list[str] = []
    size = len("[]")
    for tag, item in items:
        length = len(item.encode()) + len(",")
        if batch and size + length > MAX_MESSAGE_BYTES:
            yield tags, "[" + ",".join(batch) + "]"
            tags, batch, size = [], [], len("[]")
        tags.append(tag)
        batch.append(item)
        size += length
    if batch:
        yield tags, "[" + ",".join(batch) + "]"


def pack(events: Iterable[tuple[str, str, str]]) -> list[str]:
    """Pack events (topic, key and the payload as JSON text) into as few messages as fit
    the size limit, keeping their order; raises ``Unpublishable`` for one that cannot go."""
    items = ((None, encode(topic, key, payload)) for topic, key, payload in events)
    return [message for _, message in batches(items)]


def _text(value: str) -> str:
    if type(value) is not str:
        raise TypeError(f"{type(value).__name__} is not text")
    return orjson.dumps(value).decode()


def _json(payload: str) -> str:
    if type(payload) is not str:
        raise TypeError(f"the payload is a {type(payload).__name__}, not JSON text")
    return payload


def unpack(message: str) -> list[Event]:
    return [Event(topic, key, payload) for topic, key, payload in json.loads(message)]
