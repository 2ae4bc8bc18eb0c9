"""Turns committed outbox events into deliveries, one per endpoint that wants the event.

The same outbox rows the relay publishes to subscribers: each is fanned out once
(``outbox_event.webhooks_at`` marks it, in the transaction that writes its deliveries) and in
id order, by one dispatcher at a time across every instance (an advisory lock on PostgreSQL;
SQLite serialises writers itself). One back order's (or product's) events are written in
commit order, since each change holds its row lock, so its deliveries follow that order too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from api.domain.webhooks import TOPIC_EVENTS, DeliveryStatus
from api.store.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from api.store.statements import insert_values

ADVISORY_LOCK = 7_204_316_003
"""One fan-out at a time (the relay's lock is ``...001``, the metrics leadership's
``...002``; a key shared with a session lock would shut the fan-out out)."""
DELIVERY_FIELDS = ("endpoint_id", "event_id", "event_type", "topic", "key", "body")


async def fan_out(postgres: bool, now: datetime, batch: int = 500) -> int:
    """Write the deliveries of up to ``batch`` events not yet fanned out; returns how many
    events were taken (0 when another instance holds the lock)."""
    ids = await OutboxEvent.filter(webhooks_at=None).order_by("id").limit(batch).values_list(
        "id", flat=True)
    if not ids:
        return 0
    if not any((await _wanting()).values()):
        # Nobody wants these (committed before the endpoints were read): marked in one
        # statement, without the transaction, the lock and the rows' payloads.
        await OutboxEvent.filter(id__in=ids, webhooks_at=None).update(webhooks_at=now)
        return len(ids)
    async with in_transaction():
        if postgres and not await _lock():
            return 0
        events = await OutboxEvent.filter(webhooks_at=None).order_by("id").limit(batch)
        if not events:
            return 0
        wanting = await _wanting()
        rows = [(endpoint_id, event.id, kind.type, event.topic, event.key,
                 body(kind.type, event.created_at, event.payload))
                for event in events
                if (kind := TOPIC_EVENTS.get(event.topic)) is not None
                for endpoint_id in wanting.get(kind, ())]
        await insert_values(WebhookDelivery, DELIVERY_FIELDS, rows,
                            {"status": DeliveryStatus.PENDING, "due_at": now,
                             "created_at": now})
        await OutboxEvent.filter(id__in=[event.id for event in events]).update(
            webhooks_at=now)
    return len(events)


async def _wanting() -> dict[Any, list[int]]:
    """The enabled endpoints' ids by event wanted."""
    found: dict[Any, list[int]] = {}
    for endpoint in await WebhookEndpoint.filter(enabled=True).order_by("id"):
        for event in endpoint.events:
            found.setdefault(event, []).append(endpoint.id)
    return {kind: found.get(kind.value, []) for kind in TOPIC_EVENTS.values()}


def body(event_type: str, at: datetime, data: Any) -> str:
    """The delivery's JSON body (fixed when written, so every attempt signs the same
    bytes): the event's type, when the change committed, and the row as subscribers get it."""
    payload = data if isinstance(data, (dict, list)) else orjson.loads(data)
    return orjson.dumps({"type": event_type, "timestamp": at.isoformat(),
                         "data": payload}).decode()


async def _lock() -> bool:
    rows = await get_connection("default").execute_query_dict(
        f"SELECT pg_try_advisory_xact_lock({ADVISORY_LOCK}) AS got")
    return bool(rows[0]["got"])
