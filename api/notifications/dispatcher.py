"""Claims due messages, sends them through ``notifiers``, records every attempt.

Several dispatchers (in-process or ``backorders worker``) can run against one PostgreSQL:
a claim is ``FOR UPDATE SKIP LOCKED`` and sets a lease, so no two claim the same message.
A customer's messages about one back order on one channel go out in order: one is claimed
only while no earlier one is open (``api/domain/notices.py``), on every dispatcher.

Stopping (SIGTERM): a dispatcher claims nothing more, lets the sends it has begun finish
for up to ``stop_grace`` seconds, and releases the messages it claimed and had not begun,
as if never claimed. A send still unanswered after the grace is abandoned: its attempt is
logged ``UNKNOWN`` (it may have been delivered) and it goes back to the queue. A
dispatcher that dies (SIGKILL) leaves its claims to expire, and the next claim logs them
``UNKNOWN``. So a duplicate is only ever a message that was in flight, and the log shows it.

A message that can never be rendered or sent as it is (a broken template, a permanent
refusal such as SMTP 5xx, a service URL Apprise cannot read) is set aside at once: status
``SET_ASIDE`` with the reason, logged, counted in ``backorders_notifications_set_aside_total``,
and it holds back nothing. Other failures retry with exponential backoff and jitter, then
the message is marked failed. Staff list both and may send them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opentelemetry.trace import SpanKind, Status, StatusCode
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from api import metrics, tracing
from api.domain.model import NotificationStatus
from api.domain.notices import OPEN_STATUSES
from api.domain.restocks import OPEN_RESTOCK_STATUSES
from api.domain.retries import backoff
from api.logs import redact
from api.services.clock import utcnow
from api.store.models import Notification, NotificationAttempt, Product, Restock
from api.store.outages import OUTAGES, outage_of
from api.store.statements import claimable_notifications
from notifiers import Message, Outcome, deliver, render

log = logging.getLogger("backorders.notifications")

ABANDONED = "the sender stopped before the service answered; it may have been delivered"
EXPIRED = "the sender stopped mid-send; it may have been delivered"


@dataclass(frozen=True)
class DispatchSettings:
    urls: dict[str, str | None]
    """Apprise URL template per channel (``{to}`` is the address); None: not configured."""
    currency: str = "USD"
    public_url: str | None = None
    template_dir: str | None = None
    coalesce: timedelta = timedelta(seconds=60)
    batch: int = 50
    concurrency: int = 10
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 3600.0
    poll: float = 0.5
    send_timeout: float = 15.0
    stop_grace: float = 5.0
    """On stop, how long the sends begun may take to finish before they are abandoned."""


@dataclass
class Batch:
    """The messages this dispatcher holds a claim on, and which of them it began sending."""

    claimed: dict[int, Notification] = field(default_factory=dict)
    begun: set[int] = field(default_factory=set)


class Dispatcher:
    def __init__(self, settings: DispatchSettings, postgres: bool, name: str | None = None):
        self.settings = settings
        self.postgres = postgres
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(10**6)}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._batch = Batch()
        self._last_overdue_check: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run())

    async def stop(self, grace: float | None = None) -> None:
        """Claim nothing more; let the sends begun finish within ``grace`` seconds (the
        settings' ``stop_grace`` by default); release the rest (``release``)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            limit = self.settings.stop_grace if grace is None else grace
            done, _ = await asyncio.wait({self._task}, timeout=limit)
            if not done:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.release()

    async def release(self) -> None:
        """Give back what this dispatcher still holds: a message not begun as if never
        claimed; one begun and not answered with its attempt logged UNKNOWN."""
        batch, self._batch = self._batch, Batch()
        held = [i for i in batch.claimed if i not in batch.begun]
        if held:
            await Notification.filter(
                id__in=held, claimed_by=self.name, status=NotificationStatus.SENDING
            ).update(status=NotificationStatus.PENDING, claimed_by=None, claimed_until=None,
                     attempts=F("attempts") - 1)
        now = utcnow()
        for notification_id in sorted(batch.begun & batch.claimed.keys()):
            row = batch.claimed[notification_id]
            async with in_transaction():
                mine = await Notification.filter(
                    id=notification_id, claimed_by=self.name,
                    status=NotificationStatus.SENDING,
                ).update(status=NotificationStatus.PENDING, claimed_by=None,
                         claimed_until=None, due_at=now, last_error=ABANDONED)
                if mine:
                    await NotificationAttempt.create(
                        notification_id=notification_id, number=row.attempts,
                        outcome="UNKNOWN", worker=self.name, at=now, error=ABANDONED)
            if mine:
                log.warning("notification %s abandoned mid-send at stop; logged UNKNOWN",
                            notification_id)

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.check_overdue_restocks()
                while not self._stopping and await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if (outage := outage_of(exc)) is not None:
                    OUTAGES.failed(outage)  # told once; the round is tried again
                else:
                    log.exception("dispatcher round failed; trying again")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll)
            self._wake.clear()

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many were claimed."""
        if self._stopping:
            return 0
        claimed = await self._claim()
        if not claimed:
            return 0
        self._batch = batch = Batch({row.id: row for row in claimed})
        gate = asyncio.Semaphore(self.settings.concurrency)
        # One recipient's messages about one thing go out in order; others in parallel.
        groups: dict[tuple[object, str, str], list[Notification]] = {}
        for row in claimed:
            groups.setdefault((row.back_order_id, row.channel, row.address), []).append(row)

        async def in_order(rows: list[Notification]) -> None:
            async with gate:
                for row in rows:
                    if self._stopping:  # not begun: released as if never claimed
                        return
                    batch.begun.add(row.id)
                    if tracing.TRACER is None:
                        await self._record(row, await self._send(row))
                    else:
                        await self._traced(row)
                    del batch.claimed[row.id]

        await asyncio.gather(*(in_order(rows) for rows in groups.values()))
        return len(claimed)

    async def _claim(self) -> list[Notification]:
        now = utcnow()
        # Claim no more than can be in flight at once: a lease runs from the claim, so a
        # claimed message must not wait its turn behind others.
        size = min(self.settings.batch, self.settings.concurrency)
        async with in_transaction():
            rows = await claimable_notifications(
                Notification, now, now - self.settings.coalesce, size,
                [s.value for s in OPEN_STATUSES])
            if not rows:
                return []
            expired = [r for r in rows if r.status is NotificationStatus.SENDING]
            if expired:
                await NotificationAttempt.bulk_create([
                    NotificationAttempt(notification_id=r.id, number=r.attempts,
                                        outcome="UNKNOWN", worker=r.claimed_by or "?", at=now,
                                        error=EXPIRED)
                    for r in expired])
            for row in rows:
                row.status = NotificationStatus.SENDING
                row.claimed_by = self.name
                row.claimed_until = now + self.settings.lease
                row.attempts += 1
            await Notification.bulk_update(
                rows, fields=["status", "claimed_by", "claimed_until", "attempts"])
        return rows

    async def _traced(self, row: Notification) -> None:
        """Send and record in a span that continues the trace of the change that wrote the
        message (its stored W3C ``traceparent``), so a request's trace ends in its email."""
        assert tracing.TRACER is not None
        with tracing.TRACER.start_as_current_span(
                "notification send", context=tracing.continued(row.trace_context),
                kind=SpanKind.CLIENT, attributes={
                    "backorders.notification.id": row.id,
                    "backorders.notification.event": row.event,
                    "backorders.notification.channel": row.channel,
                    "backorders.notification.attempt": row.attempts,
                }) as span:
            outcome = await self._send(row)
            unconfigured = not self.settings.urls.get(row.channel)
            span.set_attribute("backorders.notification.outcome", "sent" if outcome.ok else (
                "suppressed" if unconfigured else outcome.reason or "failed"))
            if not outcome.ok and not unconfigured:
                span.set_status(Status(StatusCode.ERROR, redact(outcome.error or "")[:200]))
            await self._record(row, outcome)

    async def _send(self, row: Notification) -> Outcome:
        url = self.settings.urls.get(row.channel)
        if not url:
            return Outcome(False, f"no {row.channel} service is configured")
        try:
            message = self.message(row)
        except Exception as exc:  # a broken template can never render: set aside
            return Outcome(False, f"template: {type(exc).__name__}: {exc}", permanent=True,
                           reason="template")
        return await deliver(message, url, row.address, self.settings.send_timeout)

    def message(self, row: Notification) -> Message:
        base = (self.settings.public_url or "").rstrip("/")
        link = f"{base}/orders/{row.back_order_id}" if base and row.back_order_id else ""
        entry = row.data.get("waitlist_entry_id")
        # The shop's page at .../rate calls rateWait (a shipped message offers it); at
        # /waitlist/ID, claimHold (a hold's messages offer it).
        data = {"currency": self.settings.currency, "status_url": link,
                "rate_url": f"{link}/rate" if link else "",
                "claim_url": f"{base}/waitlist/{entry}" if base and entry else "", **row.data}
        return render(row.event, row.channel, data, self.settings.template_dir)

    async def _record(self, row: Notification, outcome: Outcome) -> None:
        now = utcnow()
        unconfigured = not self.settings.urls.get(row.channel)
        error = redact(outcome.error)[:500] if outcome.error else None
        set_aside = None
        async with in_transaction():
            await NotificationAttempt.create(
                notification_id=row.id, number=row.attempts, worker=self.name, at=now,
                outcome="SENT" if outcome.ok else "FAILED", error=error)
            if outcome.ok:
                update = {"status": NotificationStatus.SENT, "sent_at": now,
                          "last_error": None}
            elif unconfigured:
                update = {"status": NotificationStatus.SUPPRESSED, "last_error": error}
            elif outcome.permanent:
                set_aside = outcome.reason or "refused"
                update = {"status": NotificationStatus.SET_ASIDE, "last_error": error,
                          "set_aside": set_aside}
            elif row.attempts >= self.settings.max_attempts:
                update = {"status": NotificationStatus.FAILED, "last_error": error}
            else:
                update = {"status": NotificationStatus.PENDING, "last_error": error,
                          "due_at": now + timedelta(seconds=self._backoff(row.attempts))}
            await Notification.filter(id=row.id, claimed_by=self.name).update(
                claimed_by=None, claimed_until=None, **update)
        if set_aside is not None:  # counted once committed
            log.error("notification %s set aside (%s), not to be retried: %s", row.id,
                      set_aside, error)
            metrics.NOTIFICATIONS_SET_ASIDE.labels(set_aside).inc()

    def _backoff(self, attempts: int) -> float:
        """The wait after ``attempts`` failed sends (``retries.backoff`` counts from 1)."""
        return backoff(attempts + 1, self.settings.backoff_base, self.settings.backoff_cap,
                       random.random)

    async def check_overdue_restocks(self) -> None:
        """Tell staff, once per restock, when one is past its expected date."""
        now = utcnow()
        if self._last_overdue_check and now - self._last_overdue_check < timedelta(minutes=5):
            return
        self._last_overdue_check = now
        async with in_transaction():
            query = Restock.filter(
                status__in=list(OPEN_RESTOCK_STATUSES),
                expected_date__lt=now.date(), overdue_alerted_at__isnull=True)
            overdue = await (query.select_for_update(skip_locked=True) if self.postgres
                             else query)
            if not overdue:
                return
            products = {p.id: p for p in await Product.filter(
                id__in={r.product_id for r in overdue})}
            await Notification.bulk_create([
                Notification(event="RESTOCK_OVERDUE", channel="STAFF", address="staff",
                             due_at=now, created_at=now, data={
                                 "restock_id": r.id, "sku": products[r.product_id].sku,
                                 "product_name": products[r.product_id].name,
                                 "quantity": r.quantity, "outstanding": r.outstanding,
                                 "expected_date": r.expected_date.isoformat(),
                                 "waiting": products[r.product_id].waiting})
                for r in overdue])
            await Restock.filter(id__in=[r.id for r in overdue]).update(
                overdue_alerted_at=now)
