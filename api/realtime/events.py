"""The events that travel between instances, and the hub keys they are addressed to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

CHANNEL = "backorders_events"
MAX_MESSAGE_BYTES = 7000
"""Below PostgreSQL's 8,000-byte NOTIFY limit, with room to spare."""


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


def pack(events: Iterable[tuple[str, str, str]]) -> list[str]:
    """Pack events (topic, key and the payload as JSON text, as the outbox holds it) into as
    few messages as fit the size limit, keeping their order."""
    messages: list[str] = []
    batch: list[str] = []
    size = 2
    for topic, key, payload in events:
        item = f"[{json.dumps(topic)},{json.dumps(key)},{payload}]"
        if len(item.encode()) + 3 > MAX_MESSAGE_BYTES:
            raise ValueError(f"event {topic}:{key} is larger than a message")
        if batch and size + len(item.encode()) + 1 > MAX_MESSAGE_BYTES:
            messages.append("[" + ",".join(batch) + "]")
            batch, size = [], 2
        batch.append(item)
        size += len(item.encode()) + 1
    if batch:
        messages.append("[" + ",".join(batch) + "]")
    return messages


def unpack(message: str) -> list[Event]:
    return [Event(topic, key, payload) for topic, key, payload in json.loads(message)]
