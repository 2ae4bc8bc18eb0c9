"""Notification dispatch: messages per second from the outbox to a local SMTP server.

Ours: N pending email rows in PostgreSQL, sent by one and by two ``backorders worker``
processes (claim, render, Apprise, record). Baseline: the same N messages rendered and
sent through Apprise directly from one process with the same concurrency, no database.

    python -m bench.notify            # quick: N = 300
    python -m bench.notify --full     # N = 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from tortoise.context import TortoiseContext

from api.domain.model import NotificationStatus
from api.store.database import migrate, tortoise_config
from api.store.models import Notification
from notifiers import deliver, render
from tests.e2e.server import backorders_command
from tests.pgserver import PostgresServer
from tests.sinks import SmtpSink

CONCURRENCY = 10
DATA: dict[str, Any] = {
    "back_order_id": 1, "customer_id": "c", "sku": "KB", "product_name": "Keyboard",
    "quantity": 1, "allocated": 1, "queue_position": None, "units_ahead": 0,
    "estimated_ship_date": "2026-12-01", "estimate_scheduled": True,
    "previous_date": "2026-12-01", "promised_date": "2026-12-01", "tracking_code": None,
    "refund_amount": "10.00", "version": 2,
}


async def seed(url: str, count: int) -> None:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await Notification.all().delete()
        now = datetime.now(UTC)
        await Notification.bulk_create([
            Notification(customer_id=f"c{n}", back_order_id=n + 1, event="ALLOCATED",
                         channel="EMAIL", address=f"c{n}@example.com", data=DATA,
                         due_at=now, created_at=now)
            for n in range(count)], batch_size=1000)


async def sent(url: str) -> int:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        return await Notification.filter(status=NotificationStatus.SENT).count()


async def measure_workers(url: str, smtp: SmtpSink, count: int, workers: int) -> float:
    await seed(url, count)
    env = {**os.environ, "BACKORDERS_DATABASE_URL": url,
           "BACKORDERS_NOTIFY_EMAIL_URL": smtp.url(),
           "BACKORDERS_NOTIFY_CONCURRENCY": str(CONCURRENCY)}
    start = time.perf_counter()
    processes = [subprocess.Popen([*backorders_command(), "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(workers)]
    try:
        while await sent(url) < count:
            await asyncio.sleep(0.1)
        return count / (time.perf_counter() - start)
    finally:
        for process in processes:
            process.terminate()
            process.wait()


async def measure_baseline(smtp: SmtpSink, count: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            message = render("ALLOCATED", "EMAIL", {**DATA, "currency": "USD",
                                                    "status_url": ""})
            outcome = await deliver(message, smtp.url(), f"c{n}@example.com")
            assert outcome.ok, outcome

    start = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return count / (time.perf_counter() - start)


async def run(count: int) -> list[tuple[str, float, float]]:
    server = PostgresServer().start()
    smtp = SmtpSink().start()
    try:
        url = server.create_database("bench_notify")
        await migrate(url)
        baseline = await measure_baseline(smtp, count)
        one = await measure_workers(url, smtp, count, 1)
        two = await measure_workers(url, smtp, count, 2)
    finally:
        smtp.stop()
        server.stop()
    return [("one worker", one, baseline), ("two workers", two, baseline)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="N = 2000")
    parser.add_argument("--count", type=int, help="messages, overrides --full")
    args = parser.parse_args(argv)
    count = args.count or (2000 if args.full else 300)
    rows = asyncio.run(run(count))
    print(f"N = {count} emails to a local SMTP server; concurrency {CONCURRENCY} per sender;")
    print("baseline: Apprise straight from one process, no database.")
    print(f"{'figure':<12} {'msg/s':>8} {'baseline':>9} {'ratio':>6}")
    for name, value, baseline in rows:
        print(f"{name:<12} {value:>8.1f} {baseline:>9.1f} {value / baseline:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
