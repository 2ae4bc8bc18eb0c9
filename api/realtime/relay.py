"""Publishes committed outbox events in order; a rolled-back change never reaches the table.

An event that can never go out (too large, unwritable, or refused by a broker that takes
everything else) is set aside: marked, logged with its id and counted, so it never holds
back the events after it. A broker that refuses everything sets nothing aside."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from api import metrics, tracing
from api.realtime import spans
from api.realtime.bus import EventBus
from api.realtime.events import (
    ENVELOPE_BYTES,
    MAX_MESSAGE_BYTES,
    Unpublishable,
    batches,
    encode,
)
from api.realtime.stopping import cancel_until_done
from api.services.clock import utcnow
from api.store.models import OutboxEvent
from api.store.outages import OUTAGES, outage_of
from api.store.snapshots import SNAPSHOT_MODELS, column_bytes, worst_case_bytes
from api.store.statements import fetch

log = logging.getLogger("backorders.realtime")

ADVISORY_LOCK = 7_204_316_001
"""Only one relay at a time publishes, across every instance, so events keep their order."""
ROWS = ("SELECT id, topic, key, payload FROM outbox_event"
        " WHERE published_at IS NULL ORDER BY id LIMIT $1")
TRACED_ROWS = ("SELECT id, topic, key, payload, trace_context FROM outbox_event"
               " WHERE published_at IS NULL ORDER BY id LIMIT $1")
SET_ASIDE_CHARS: int = OutboxEvent._meta.fields_map["set_aside"].max_length  # type: ignore[attr-defined]


class BrokerUnavailable(ConnectionError):
    """Every publish fails, heartbeats too: the events wait, none is set aside."""


@dataclass
class Round:
    """What one batch came to: rows read, ids published, ids set aside and why."""

    read: int = 0
    published: list[int] = field(default_factory=list)
    set_aside: dict[int, Unpublishable] = field(default_factory=dict)
    outage: BrokerUnavailable | None = None


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
            await cancel_until_done([self._task])

    async def drain(self) -> int:
        """Publish everything committed so far; returns how many events went out. Raises
        ``BrokerUnavailable`` when the broker refuses everything (nothing is set aside)."""
        total = 0
        while True:
            done = await self._publish_batch()
            total += len(done.published)
            if done.read < self.batch:
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
                    # An event goes once published and fanned out to webhooks.
                    await OutboxEvent.filter(published_at__lt=cleaned - self.keep,
                                             webhooks_at__lt=cleaned - self.keep).delete()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the rows stay unpublished and go out on a later round
                if (outage := outage_of(exc)) is not None:
                    OUTAGES.failed(outage)  # told once, not every round
                else:
                    log.warning("outbox relay: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(self.poll)

    async def _publish_batch(self) -> Round:
        if not self.bus.connected.is_set():
            return Round()
        async with in_transaction():
            if self.postgres and not await self._lock():
                return Round()
            # Fixed SQL, and the payload passed on as the JSON text it is stored as: a model
            # per row would parse two timestamps and the payload, to write it out again.
            traced = tracing.TRACER is not None  # with the writers' trace context
            rows = await fetch(TRACED_ROWS if traced else ROWS, [self.batch])
            done = await self._send(rows, traced)
            now = utcnow()
            if done.published:
                await OutboxEvent.filter(id__in=done.published).update(published_at=now)
            for event_id, why in done.set_aside.items():
                await OutboxEvent.filter(id=event_id).update(
                    published_at=now, set_aside=str(why)[:SET_ASIDE_CHARS])
        for event_id, why in done.set_aside.items():  # counted once committed
            log.error("outbox event %s set aside, never to be retried: %s", event_id, why)
            metrics.EVENTS_SET_ASIDE.labels(why.reason).inc()
        if done.outage is not None:
            raise done.outage
        return done

    async def _send(self, rows: list[dict[str, Any]], traced: bool = False) -> Round:
        """Publish the rows in order; set aside each one that can never go out. ``traced``:
        each message's publish continues the traces of the requests that wrote its rows
        (``api/realtime/spans.py``)."""
        done = Round(read=len(rows))
        items: dict[int, str] = {}
        for row in rows:
            try:
                items[row["id"]] = encode(row["topic"], row["key"], _json_text(row["payload"]))
            except Unpublishable as exc:
                done.set_aside[row["id"]] = exc
            except Exception as exc:  # a payload the driver decoded and cannot write again
                done.set_aside[row["id"]] = Unpublishable(
                    "unencodable", f"{type(exc).__name__}: {exc}")
        contexts = {row["id"]: row["trace_context"] for row in rows} if traced else None
        for ids, message in batches(items.items()):
            publish = spans.Publish(ids, contexts) if contexts is not None else None
            try:
                await self.bus.publish(message)
            except Exception as exc:
                if publish is not None:
                    publish.failed(exc)
                if not await self._one_by_one(ids, items, done):
                    break
            else:
                done.published += ids
                if publish is not None:
                    publish.done()
        return done

    async def _one_by_one(self, ids: list[int], items: dict[int, str], done: Round) -> bool:
        """After a message failed, each of its events alone. One the broker refuses twice,
        taking a heartbeat in between, is set aside; if the heartbeat fails too the broker
        is out: stop (returns False) and leave the rest for a later round."""
        for event_id in ids:
            message = f"[{items[event_id]}]"
            if await self._refusal(message) is None:
                done.published.append(event_id)
                continue
            if not await self.bus.probe():
                done.outage = BrokerUnavailable("the broker refuses every message")
                return False
            if (refused := await self._refusal(message)) is None:
                done.published.append(event_id)
            else:
                done.set_aside[event_id] = Unpublishable(
                    "refused", f"{type(refused).__name__}: {refused}")
        return True

    async def _refusal(self, message: str) -> Exception | None:
        """Publish; the error if the broker refused."""
        try:
            await self.bus.publish(message)
        except Exception as exc:
            return exc
        return None

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
