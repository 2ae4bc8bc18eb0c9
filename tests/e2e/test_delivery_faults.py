"""Nothing lost: a down mail server, and a worker killed mid-batch, against real processes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import IO

import httpx

from api.domain.identity import Role
from tests.e2e.server import SECRET, ServerProcess, backorders_command, graphql, until
from tests.sinks import SmtpSink

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {
  __typename } }"""
PREFER = """mutation($email: String!) { setNotificationPreferences(input: {
  email: $email, channels: [EMAIL], events: [ALLOCATED]}) { __typename } }"""
PLACE = """mutation { placeOrder(input: {lines: [{sku: "KB", quantity: 1}],
  idempotencyKey: "k"}) { __typename } }"""
SCHEDULE = """mutation($date: Date!, $q: Int!) {
  scheduleRestock(input: {sku: "KB", quantity: $q, expectedDate: $date}) {
    ... on RestockPayload { restock { id } } } }"""
RECEIVE = 'mutation($id: ID!) { receiveRestock(id: $id) { __typename } }'
LOG = """{ notifications(first: 100) { totalCount edges { node {
  status attempts attemptLog { outcome } } } } }"""


async def _queue_of(server: ServerProcess, client: httpx.AsyncClient, count: int) -> str:
    staff = server.token("staff", Role.STAFF)
    await graphql(client, CREATE, staff)
    for n in range(count):
        token = server.token(f"c{n}")
        await graphql(client, PREFER, token, email=f"c{n}@example.com")
        await graphql(client, PLACE, token)
    date = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    restock = await graphql(client, SCHEDULE, staff, date=date, q=count)
    restock_id: str = restock["scheduleRestock"]["restock"]["id"]
    return restock_id


async def test_a_down_mail_server_loses_nothing_and_sends_each_once(
    pg_database: str, smtp: SmtpSink, tmp_path: Path
) -> None:
    server = ServerProcess(pg_database, tmp_path / "server.log",
                           BACKORDERS_NOTIFY_EMAIL_URL=smtp.url(),
                           BACKORDERS_NOTIFY_BACKOFF_SECONDS="0.2",
                           BACKORDERS_NOTIFY_MAX_ATTEMPTS="50")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            restock = await _queue_of(server, client, 100)
            smtp.stop()
            await graphql(client, RECEIVE, server.token("staff", Role.STAFF), id=restock)
            await asyncio.sleep(2)  # the dispatcher tries, fails and backs off
            assert smtp.messages == []
            smtp.start()
            await until(lambda: len(smtp.messages) >= 100)
            await asyncio.sleep(1)  # nothing more should come
            log = (await graphql(client, LOG, server.token("staff", Role.STAFF)))[
                "notifications"]
    finally:
        server.stop()
    per_customer = Counter(str(m["To"]) for m in smtp.messages)
    assert per_customer == Counter({f"c{n}@example.com": 1 for n in range(100)})
    assert all(m["Subject"] == "Your Keyboard is set aside" for m in smtp.messages)
    statuses = Counter(e["node"]["status"] for e in log["edges"])
    assert statuses == Counter({"SENT": 100})
    assert any(e["node"]["attempts"] > 1 for e in log["edges"])  # it was really retried


async def test_a_worker_killed_mid_batch_loses_nothing(
    pg_database: str, tmp_path: Path
) -> None:
    smtp = SmtpSink(delay=0.05).start()
    env = {
        **os.environ, "BACKORDERS_DATABASE_URL": pg_database, "BACKORDERS_JWT_SECRET": SECRET,
        "BACKORDERS_NOTIFY_EMAIL_URL": smtp.url(), "BACKORDERS_NOTIFY_LEASE_SECONDS": "2",
        "BACKORDERS_NOTIFY_CONCURRENCY": "5", "BACKORDERS_NOTIFY_BATCH": "20",
    }
    server = ServerProcess(pg_database, tmp_path / "server.log",
                           BACKORDERS_DISPATCHER="off")
    worker = None
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            restock = await _queue_of(server, client, 60)
            await graphql(client, RECEIVE, server.token("staff", Role.STAFF), id=restock)
            log = (tmp_path / "worker.log").open("wb")
            worker = subprocess.Popen([*backorders_command(), "worker"], env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
            await until(lambda: len(smtp.messages) >= 10)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            killed_at = len(smtp.messages)
            assert killed_at < 60
            worker = subprocess.Popen([*backorders_command(), "worker"], env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
            await until(lambda: len({str(m["To"]) for m in smtp.messages}) >= 60)
            await asyncio.sleep(3)
            entries = (await graphql(client, LOG, server.token("staff", Role.STAFF)))[
                "notifications"]["edges"]
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait()
        server.stop()
        smtp.stop()
    per_customer = Counter(str(m["To"]) for m in smtp.messages)
    assert set(per_customer) == {f"c{n}@example.com" for n in range(60)}
    duplicates = sum(count - 1 for count in per_customer.values())
    unknown = sum(1 for e in entries
                  if "UNKNOWN" in [a["outcome"] for a in e["node"]["attemptLog"]])
    # Only what was in flight at the kill can go twice, and each such case is in the log.
    assert duplicates <= unknown <= 5  # at most one claim of 5 (the concurrency) in flight
    assert all(e["node"]["status"] == "SENT" for e in entries)


BACK_ORDER_LINE = re.compile(r"Back order (\d+)\.")
LOG_BY_BACK_ORDER = """{ notifications(first: 100) { edges { node {
  backOrderId status attempts attemptLog { outcome worker error } } } } }"""


def _worker(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*backorders_command(), "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _back_order_of(mail: EmailMessage) -> str:
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = BACK_ORDER_LINE.search(text)
    assert found, text
    return found[1]


async def test_two_workers_stopped_and_killed_mid_batch_send_each_once_or_say_so(
    pg_database: str, tmp_path: Path
) -> None:
    """SIGTERM to one of two workers mid-batch: it finishes what it began and releases the
    rest (nothing twice); SIGKILL to the other: what it had in flight may go twice, and the
    log says UNKNOWN for each such message. Every customer gets the email."""
    customers = 30
    smtp = SmtpSink(delay=0.3).start()  # a server that takes 300 ms to confirm
    env = {
        **os.environ, "BACKORDERS_DATABASE_URL": pg_database, "BACKORDERS_JWT_SECRET": SECRET,
        # A lease well above a send (0.3 s), so that only the kill leaves claims to expire.
        "BACKORDERS_NOTIFY_EMAIL_URL": smtp.url(), "BACKORDERS_NOTIFY_LEASE_SECONDS": "4",
        "BACKORDERS_NOTIFY_CONCURRENCY": "4", "BACKORDERS_NOTIFY_BATCH": "4",
    }
    server = ServerProcess(pg_database, tmp_path / "server.log", BACKORDERS_DISPATCHER="off")
    log = (tmp_path / "workers.log").open("wb")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            restock = await _queue_of(server, client, customers)
            await graphql(client, RECEIVE, server.token("staff", Role.STAFF), id=restock)
            workers = [_worker(env, log), _worker(env, log)]
            stopped_pid, killed_pid = workers[0].pid, workers[1].pid
            await until(lambda: len(smtp.messages) >= 4)
            workers[0].send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(workers[0].wait, 15) == 0
            workers[1].send_signal(signal.SIGKILL)  # mid-batch: it has work left
            await asyncio.to_thread(workers[1].wait, 15)
            assert len({str(m["To"]) for m in smtp.messages}) < customers
            workers.append(_worker(env, log))
            await until(lambda: len({str(m["To"]) for m in smtp.messages}) >= customers)
            await asyncio.sleep(1)  # anything more would be a duplicate
            entries = (await graphql(client, LOG_BY_BACK_ORDER,
                                     server.token("staff", Role.STAFF)))["notifications"]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait()
        server.stop()
        smtp.stop()
        log.close()
    per_customer = Counter(str(m["To"]) for m in smtp.messages)
    assert set(per_customer) == {f"c{n}@example.com" for n in range(customers)}
    log_of = {e["node"]["backOrderId"]: e["node"] for e in entries["edges"]}
    assert all(node["status"] == "SENT" for node in log_of.values())
    per_back_order = Counter(_back_order_of(m) for m in smtp.messages)
    for back_order, count in per_back_order.items():
        outcomes = [a["outcome"] for a in log_of[back_order]["attemptLog"]]
        assert count - 1 <= outcomes.count("UNKNOWN"), (back_order, count, outcomes)
    # What the stopped worker began, it finished: it abandoned nothing, and no claim of its
    # was left to expire; the UNKNOWNs are the killed worker's claims in flight.
    unknown = [a for node in log_of.values() for a in node["attemptLog"]
               if a["outcome"] == "UNKNOWN"]
    host = socket.gethostname()
    assert [a for a in unknown if a["worker"].startswith(f"{host}:{stopped_pid}:")] == []
    assert all(a["worker"].startswith(f"{host}:{killed_pid}:") for a in unknown), unknown
    assert len(unknown) <= 4
