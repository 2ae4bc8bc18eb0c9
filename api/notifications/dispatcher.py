"""Claims due messages, sends them through ``notifiers``, records every attempt.

Several dispatchers (in-process or ``backorders worker``) can run against one PostgreSQL:
a claim is ``FOR UPDATE SKIP LOCKED`` and sets a lease, so no two claim the same message. A
dispatcher that dies mid-send leaves its claims to expire; the next claim records that the
outcome is unknown and sends again, so a duplicate is limited to what was in flight and is
visible in the delivery log. Failures retry with exponential backoff and jitter, then the
message is marked failed for staff to see.
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

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from api.domain.model import NotificationStatus
from api.domain.restocks import OPEN_RESTOCK_STATUSES
from api.services.clock import utcnow
from api.store.models import Notification, NotificationAttempt, Product, Restock
from notifiers import Message, Outcome, deliver, render

log = logging.getLogger("backorders.notifications")


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


class Dispatcher:
    def __init__(self, settings: DispatchSettings, postgres: bool, name: str | None = None):
        self.settings = settings
        self.postgres = postgres
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{random.randrange(10**6)}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_overdue_check: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        """Stop claiming; messages claimed but not sent go back to the queue."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await Notification.filter(status=NotificationStatus.SENDING,
                                  claimed_by=self.name).update(
            status=NotificationStatus.PENDING, claimed_by=None, claimed_until=None)

    async def run(self) -> None:
        while True:
            try:
                await self.check_overdue_restocks()
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll)
            self._wake.clear()

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many were claimed."""
        claimed = await self._claim()
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self.settings.concurrency)
        # One recipient's messages about one thing go out in order; others in parallel.
        groups: dict[tuple[object, str, str], list[Notification]] = {}
        for row in claimed:
            groups.setdefault((row.back_order_id, row.channel, row.address), []).append(row)

        async def in_order(rows: list[Notification]) -> None:
            async with gate:
                for row in rows:
                    await self._record(row, await self._send(row))

        await asyncio.gather(*(in_order(rows) for rows in groups.values()))
        return len(claimed)

    async def _claim(self) -> list[Notification]:
        now = utcnow()
        held = now - self.settings.coalesce
        due = (
            (Q(status=NotificationStatus.PENDING) & Q(due_at__lte=now)
             & (~Q(event="DATE_CHANGED") | Q(created_at__lte=held)))
            | (Q(status=NotificationStatus.SENDING) & Q(claimed_until__lt=now))
        )
        async with in_transaction():
            # Claim no more than can be in flight at once: a lease runs from the claim, so a
            # claimed message must not wait its turn behind others.
            size = min(self.settings.batch, self.settings.concurrency)
            query = Notification.filter(due).order_by("id").limit(size)
            rows = await (query.select_for_update(skip_locked=True) if self.postgres
                          else query)
            if not rows:
                return []
            expired = [r for r in rows if r.status is NotificationStatus.SENDING]
            if expired:
                await NotificationAttempt.bulk_create([
                    NotificationAttempt(notification_id=r.id, number=r.attempts,
                                        outcome="UNKNOWN", worker=r.claimed_by or "?", at=now,
                                        error="the sender stopped mid-send; it may have "
                                              "been delivered")
                    for r in expired])
            for row in rows:
                row.status = NotificationStatus.SENDING
                row.claimed_by = self.name
                row.claimed_until = now + self.settings.lease
                row.attempts += 1
            await Notification.bulk_update(
                rows, fields=["status", "claimed_by", "claimed_until", "attempts"])
        return rows

    async def _send(self, row: Notification) -> Outcome:
        url = self.settings.urls.get(row.channel)
        if not url:
            return Outcome(False, f"no {row.channel} service is configured")
        try:
            message = self.message(row)
        except Exception as exc:  # a broken template is a failed message, not a crash
            return Outcome(False, f"template: {type(exc).__name__}: {exc}")
        return await deliver(message, url, row.address, self.settings.send_timeout)

    def message(self, row: Notification) -> Message:
        link = (f"{self.settings.public_url.rstrip('/')}/orders/{row.back_order_id}"
                if self.settings.public_url and row.back_order_id else "")
        data = {"currency": self.settings.currency, "status_url": link, **row.data}
        return render(row.event, row.channel, data, self.settings.template_dir)

    async def _record(self, row: Notification, outcome: Outcome) -> None:
        now = utcnow()
        unconfigured = not self.settings.urls.get(row.channel)
        async with in_transaction():
            await NotificationAttempt.create(
                notification_id=row.id, number=row.attempts, worker=self.name, at=now,
                outcome="SENT" if outcome.ok else "FAILED", error=outcome.error)
            if outcome.ok:
                update = {"status": NotificationStatus.SENT, "sent_at": now,
                          "last_error": None}
            elif unconfigured:
                update = {"status": NotificationStatus.SUPPRESSED, "last_error": outcome.error}
            elif row.attempts >= self.settings.max_attempts:
                update = {"status": NotificationStatus.FAILED, "last_error": outcome.error}
            else:
                update = {"status": NotificationStatus.PENDING, "last_error": outcome.error,
                          "due_at": now + timedelta(seconds=self._backoff(row.attempts))}
            await Notification.filter(id=row.id, claimed_by=self.name).update(
                claimed_by=None, claimed_until=None, **update)

    def _backoff(self, attempts: int) -> float:
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** attempts)
        return random.uniform(ceiling / 2, ceiling)

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
