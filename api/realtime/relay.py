"""Publishes committed outbox events in order; a rolled-back change never reaches the table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import orjson
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from api.realtime.bus import EventBus
from api.realtime.events import ENVELOPE_BYTES, MAX_MESSAGE_BYTES, pack
from api.services.clock import utcnow
from api.services.statements import fetch
from api.store.models import OutboxEvent
from api.store.snapshots import SNAPSHOT_MODELS, column_bytes, worst_case_bytes

log = logging.getLogger("backorders.realtime")

ADVISORY_LOCK = 7_204_316_001
"""Only one relay at a time publishes, across every instance, so events keep their order."""


class OutboxRelay:
    def __init__(self, bus: EventBus, postgres: bool, batch: int = 1000,
                 poll: float = 0.5, keep: timedelta = timedelta(days=1)) -> None:
        self.bus = bus
        self.postgres = postgres
        self.batch = batch
        self.poll = poll
        self.keep = keep
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        check_event_sizes()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def drain(self) -> int:
        """Publish everything committed so far; returns how many events went out."""
        total = 0
        while True:
            sent = await self._publish_batch()
            total += sent
            if sent < self.batch:
                return total

    async def _run(self) -> None:
        cleaned = utcnow()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()
            try:
                await self.drain()
                if utcnow() - cleaned > timedelta(minutes=10):
                    cleaned = utcnow()
                    await OutboxEvent.filter(published_at__lt=cleaned - self.keep).delete()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the rows stay unpublished and go out on a later round
                log.warning("outbox relay: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(self.poll)

    async def _publish_batch(self) -> int:
        if not self.bus.connected.is_set():
            return 0
        async with in_transaction():
            if self.postgres and not await self._lock():
                return 0
            # Fixed SQL, and the payload passed on as the JSON text it is stored as: a model
            # per row would parse two timestamps and the payload, to write it out again.
            rows = await fetch("SELECT id, topic, key, payload FROM outbox_event"
                               " WHERE published_at IS NULL ORDER BY id LIMIT $1", [self.batch])
            if not rows:
                return 0
            for message in pack((r["topic"], r["key"], _json_text(r["payload"])) for r in rows):
                await self.bus.publish(message)
            await OutboxEvent.filter(id__in=[r["id"] for r in rows]).update(
                published_at=utcnow())
        return len(rows)

    async def _lock(self) -> bool:
        rows = await get_connection("default").execute_query_dict(
            f"SELECT pg_try_advisory_xact_lock({ADVISORY_LOCK}) AS got")
        return bool(rows[0]["got"])


def worst_case_message_bytes() -> int:
    """The largest message one snapshot event can need, from declared sizes alone: the
    outbox's topic and key columns around the largest snapshot any model can make."""
    outbox = OutboxEvent._meta.fields_map
    envelope = ENVELOPE_BYTES + sum(column_bytes(outbox[name]) or MAX_MESSAGE_BYTES
                                    for name in ("topic", "key"))
    return envelope + max(worst_case_bytes(model) for model in SNAPSHOT_MODELS)


def check_event_sizes() -> None:
    """Every live event fits a message by construction; a model change that breaks that
    stops the server at start-up instead of setting events aside."""
    need = worst_case_message_bytes()
    if need > MAX_MESSAGE_BYTES:
        raise RuntimeError(f"a live event can take {need} bytes, over the {MAX_MESSAGE_BYTES}"
                           " of a message: bound or leave out a column (api/store/snapshots.py)")


def _json_text(payload: Any) -> str:
    """The stored payload as JSON text (a driver may hand it over decoded)."""
    return payload if isinstance(payload, str) else orjson.dumps(payload).decode()
