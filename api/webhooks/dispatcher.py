"""Delivers webhooks: fans the outbox out, claims due deliveries, posts them signed, records
every attempt, retries with backoff, and marks a delivery DEAD after the last attempt.

It works as the notification dispatcher does (``api/notifications/dispatcher.py``): a claim
is a conditional UPDATE with a lease, so several dispatchers never send one delivery at
once; one whose lease expired (its dispatcher died) is claimed again with its attempt logged
``UNKNOWN``; on stop, sends still unanswered after the grace are logged ``UNKNOWN`` and go
back to the queue. A receiver sees each delivery at least once, and every attempt carries
the delivery's one ``webhook-id``, so it can keep exactly one.

What differs is the scheduling. Each send is its own task and a slot is refilled as soon as
one ends, so a receiver that hangs holds its own slots for at most ``timeout`` seconds, and
no endpoint may hold more than ``per_endpoint`` of the ``concurrency`` slots: one endpoint
down or slow never holds back the others. An endpoint's deliveries about one back order
(or product) go out in the order of the changes: one is claimed only while no earlier one
of the same endpoint and subject is PENDING or SENDING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from api.domain.retries import backoff
from api.domain.webhooks import (
    OPEN_DELIVERY_STATUSES,
    DeliveryStatus,
    judge,
    signing_secrets,
)
from api.services.clock import utcnow
from api.store.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.store.outages import OUTAGES, outage_of
from api.store.statements import fetch
from api.webhooks import signing
from api.webhooks.fanout import fan_out
from api.webhooks.sender import Sender

log = logging.getLogger("backorders.webhooks")

EXPIRED = "the sender stopped mid-send; it may have been delivered"
ABANDONED = "the sender stopped before the receiver answered; it may have been delivered"
ERROR_CHARS = 500


@dataclass(frozen=True)
class WebhookSettings:
    concurrency: int = 20
    per_endpoint: int = 4
    """At most this many sends in flight to one endpoint, per dispatcher."""
    timeout: float = 10.0
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 10
    backoff_base: float = 5.0
    backoff_cap: float = 3600.0
    poll: float = 0.5
    stop_grace: float = 5.0
    allow_private: bool = False
    fanout_batch: int = 500
    keep: timedelta = timedelta(days=7)
    """How long delivered deliveries stay in the log."""


@dataclass
class InFlight:
    row: WebhookDelivery
    task: asyncio.Task[None] | None = None


class WebhookDispatcher:
    def __init__(self, settings: WebhookSettings, postgres: bool, name: str | None = None,
                 sender: Sender | None = None) -> None:
        self.settings = settings
        self.postgres = postgres
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(10**6)}"
        self.sender = sender or Sender(settings.timeout, settings.allow_private)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._flight: dict[int, InFlight] = {}
        self._cleaned: datetime | None = None
        self._finished = 0
        """Sends ended so far (a slot came free)."""

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        await self.sender.open()
        self._task = asyncio.create_task(self.run())

    async def stop(self, grace: float | None = None) -> None:
        """Claim nothing more; let the sends in flight finish within ``grace`` seconds;
        give back the rest, logged UNKNOWN."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            limit = self.settings.stop_grace if grace is None else grace
            done, _ = await asyncio.wait({self._task}, timeout=limit)
            while not done:  # (stuck, say on a database it cannot reach: cancel, again
                self._task.cancel()  # each second, as a cancel can be lost)
                done, _ = await asyncio.wait({self._task}, timeout=1)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        tasks = [f.task for f in self._flight.values() if f.task is not None]
        if tasks:
            limit = self.settings.stop_grace if grace is None else grace
            _, late = await asyncio.wait(tasks, timeout=limit)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.release()
        await self.sender.close()

    async def release(self) -> None:
        """Put back every delivery still held, due now, its attempt logged UNKNOWN."""
        held, self._flight = self._flight, {}
        now = utcnow()
        for delivery_id, flight in sorted(held.items()):
            async with in_transaction():
                mine = await WebhookDelivery.filter(
                    id=delivery_id, claimed_by=self.name, status=DeliveryStatus.SENDING,
                ).update(status=DeliveryStatus.PENDING, claimed_by=None, claimed_until=None,
                         due_at=now, last_error=ABANDONED)
                if mine:
                    await WebhookAttempt.create(
                        delivery_id=delivery_id, number=flight.row.attempts,
                        outcome="UNKNOWN", worker=self.name, at=now, error=ABANDONED)

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if (outage := outage_of(exc)) is not None:
                    OUTAGES.failed(outage)
                else:
                    log.exception("webhook round failed; trying again")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll)
            self._wake.clear()

    async def run_once(self) -> int:
        """Fan out what was committed, then fill the free slots; returns sends started."""
        now = utcnow()
        while await fan_out(self.postgres, now, self.settings.fanout_batch) >= (
                self.settings.fanout_batch):
            pass
        await self._clean(now)
        free = self.settings.concurrency - len(self._flight)
        if free <= 0 or self._stopping:
            return 0
        rows = await self.claim(free)
        for row in rows:
            flight = self._flight[row.id] = InFlight(row)
            flight.task = asyncio.create_task(self._deliver(row))
        return len(rows)

    async def drain(self) -> None:
        """Send everything due now and wait for the sends (tests and benchmarks)."""
        while True:
            finished = self._finished
            started = await self.run_once()
            tasks = [f.task for f in self._flight.values() if f.task is not None]
            if tasks:
                await asyncio.wait(tasks)
            elif not started and finished == self._finished:
                return

    async def claim(self, free: int) -> list[WebhookDelivery]:
        now = utcnow()
        busy: dict[int, int] = {}
        for flight in self._flight.values():
            busy[flight.row.endpoint_id] = busy.get(flight.row.endpoint_id, 0) + 1
        candidates = await _candidates(now, self.settings.per_endpoint, free * 4)
        chosen: list[dict[str, Any]] = []
        for candidate in candidates:
            endpoint = candidate["endpoint_id"]
            if busy.get(endpoint, 0) < self.settings.per_endpoint and len(chosen) < free:
                busy[endpoint] = busy.get(endpoint, 0) + 1
                chosen.append(candidate)
        if not chosen:
            return []
        claimed: list[int] = []
        async with in_transaction():
            for candidate in chosen:
                due = Q(status=DeliveryStatus.PENDING, due_at__lte=now) | Q(
                    status=DeliveryStatus.SENDING, claimed_until__lt=now)
                got = await WebhookDelivery.filter(due, id=candidate["id"]).update(
                    status=DeliveryStatus.SENDING, claimed_by=self.name,
                    claimed_until=now + self.settings.lease, attempts=F("attempts") + 1)
                if not got:
                    continue  # another dispatcher was first
                claimed.append(candidate["id"])
                if candidate["status"] == DeliveryStatus.SENDING.value:
                    await WebhookAttempt.create(
                        delivery_id=candidate["id"], number=candidate["attempts"],
                        outcome="UNKNOWN", worker=candidate["claimed_by"] or "?", at=now,
                        error=EXPIRED)
        if not claimed:
            return []
        return await WebhookDelivery.filter(id__in=claimed).order_by("id")

    async def _deliver(self, row: WebhookDelivery) -> None:
        try:
            endpoint = await WebhookEndpoint.get_or_none(id=row.endpoint_id)
            if endpoint is None:  # deleted meanwhile; its deliveries went with it
                self._flight.pop(row.id, None)
                return
            now = utcnow()
            secrets = signing_secrets(endpoint.secret, endpoint.previous_secret,
                                      endpoint.previous_secret_until, now)
            headers = signing.headers(row.id, row.body, secrets, now)
            response = await self.sender.post(endpoint.url, row.body, headers)
            await self._record(row, response.status, response.error, response.duration_ms)
            self._flight.pop(row.id, None)
        except asyncio.CancelledError:
            raise  # stop() gives it back
        except Exception as exc:  # the lease runs out and the next claim retries it
            if (outage := outage_of(exc)) is not None:
                OUTAGES.failed(outage)
            else:
                log.exception("webhook delivery %s failed to be recorded", row.id)
            self._flight.pop(row.id, None)
        finally:
            self._finished += 1
            self._wake.set()

    async def _record(self, row: WebhookDelivery, status: int | None, failure: str | None,
                      duration_ms: int) -> None:
        answer = judge(status, failure)
        now = utcnow()
        error = answer.error[:ERROR_CHARS] if answer.error else None
        update: dict[str, Any]
        if answer.delivered:
            update = {"status": DeliveryStatus.DELIVERED, "delivered_at": now,
                      "last_error": None}
        elif row.attempts >= self.settings.max_attempts:
            update = {"status": DeliveryStatus.DEAD, "last_error": error}
        else:
            wait = backoff(row.attempts, self.settings.backoff_base, self.settings.backoff_cap,
                           random.random)
            update = {"status": DeliveryStatus.PENDING, "last_error": error,
                      "due_at": now + timedelta(seconds=wait)}
        async with in_transaction():
            await WebhookAttempt.create(
                delivery_id=row.id, number=row.attempts, worker=self.name, at=now,
                outcome="DELIVERED" if answer.delivered else "FAILED", status_code=status,
                error=error, duration_ms=duration_ms)
            await WebhookDelivery.filter(id=row.id, claimed_by=self.name).update(
                claimed_by=None, claimed_until=None, last_status_code=status, **update)
        if update["status"] is DeliveryStatus.DEAD:
            log.error("webhook delivery %s to endpoint %s is dead after %s attempts: %s",
                      row.id, row.endpoint_id, row.attempts, error)

    async def _clean(self, now: datetime) -> None:
        if self._cleaned is not None and now - self._cleaned < timedelta(minutes=10):
            return
        self._cleaned = now
        await WebhookDelivery.filter(status=DeliveryStatus.DELIVERED,
                                     delivered_at__lt=now - self.settings.keep).delete()


CANDIDATES = """
SELECT id, endpoint_id, status, attempts, claimed_by FROM (
  SELECT d.id, d.endpoint_id, d.status, d.attempts, d.claimed_by, d.due_at,
         ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ORDER BY d.due_at, d.id) AS place
  FROM webhook_delivery d JOIN webhook_endpoint w ON w.id = d.endpoint_id
  WHERE w.enabled
    AND ((d.status = 'PENDING' AND d.due_at <= $1)
         OR (d.status = 'SENDING' AND d.claimed_until < $1))
    AND NOT EXISTS (
      SELECT 1 FROM webhook_delivery e
      WHERE e.endpoint_id = d.endpoint_id AND e.topic = d.topic AND e.key = d.key
        AND e.event_id < d.event_id AND e.status IN ({open}))
) c WHERE place <= $2 ORDER BY due_at, id LIMIT $3
"""
"""Due deliveries (or ones whose claim expired) that no earlier open delivery of the same
endpoint and subject holds back, at most ``$2`` per endpoint: a window over a correlated
subquery, which the ORM cannot write."""


async def _candidates(now: datetime, per_endpoint: int, limit: int) -> list[dict[str, Any]]:
    field = WebhookDelivery._meta.fields_map["due_at"]
    sql = CANDIDATES.format(open=", ".join(
        f"'{status.value}'" for status in sorted(OPEN_DELIVERY_STATUSES)))
    return await fetch(sql, [field.to_db_value(now, WebhookDelivery), per_endpoint, limit])
