"""A pre-order is released by itself at its release date, exactly once, by running
services on PostgreSQL: with two API instances and a worker all sweeping, and after a
restart that happened at the release moment. The release day coming is arranged in the
database (the release date moved to today); the customers' mail is read from a real SMTP
sink: one RELEASED message each, never two."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import asyncpg
import httpx

from api.domain.identity import Role
from bench.suite import bulk_queue
from tests.e2e.server import ServerProcess, graphql, until, worker_process
from tests.sinks import SmtpSink

CREATE = """mutation { createProduct(input: {sku: "GAME", name: "Game", price: "60.00",
  onHand: 2, policy: {releaseDate: "2099-01-01", handlingDays: 0, earlyBirdSize: 1,
  earlyBirdBonus: "a poster"}}) { __typename } }"""
PREFS = """mutation($email: String!) { setNotificationPreferences(input: {email: $email,
  channels: [EMAIL]}) { __typename } }"""
PLACE = """mutation($k: String!) { placeOrder(input: {lines: [{sku: "GAME", quantity: 1}],
  idempotencyKey: $k}) { __typename ... on PlaceOrderPayload { order { backOrders {
  id status preOrder earlyBird } } } } }"""
MINE = """query($id: ID!) { backOrder(id: $id) { status queuePosition history { kind } } }"""
PRODUCT = '{ product(sku: "GAME") { availability releasedAt stock { allocated } } }'
CUSTOMERS = ("alice", "bob", "carol")


def _env(smtp: SmtpSink) -> dict[str, str]:
    return {"BACKORDERS_SWEEP_SECONDS": "0.2", "BACKORDERS_NOTIFY_EMAIL_URL": smtp.url()}


async def _pre_orders(client: httpx.AsyncClient, server: ServerProcess) -> dict[str, str]:
    assert (await graphql(client, CREATE, server.token("staff", Role.STAFF)))[
        "createProduct"]["__typename"] == "ProductPayload"
    ids = {}
    for name in CUSTOMERS:
        token = server.token(name)
        await graphql(client, PREFS, token, email=f"{name}@example.com")
        placed = (await graphql(client, PLACE, token, k=name))["placeOrder"]
        [bo] = placed["order"]["backOrders"]
        assert (bo["status"], bo["preOrder"], bo["earlyBird"]) == (
            "WAITING", True, name == "alice")
        ids[name] = bo["id"]
    return ids


async def _released_once(client: httpx.AsyncClient, server: ServerProcess,
                         smtp: SmtpSink, ids: dict[str, str]) -> None:
    try:
        await until(lambda: all(any(m["Subject"].startswith("Game is out") for m in smtp.to(
            f"{name}@example.com")) for name in CUSTOMERS), timeout=60)
    except AssertionError:
        raise AssertionError({name: [m["Subject"] for m in smtp.to(f"{name}@example.com")]
                              for name in CUSTOMERS}) from None
    await asyncio.sleep(1.5)  # several more sweeps of every process: nothing twice
    product = (await graphql(client, PRODUCT))["product"]
    assert product["releasedAt"] is not None
    assert product["stock"]["allocated"] == 2
    for name in CUSTOMERS:
        out = [m for m in smtp.to(f"{name}@example.com")
               if m["Subject"].startswith("Game is out")]
        assert len(out) == 1, (name, [m["Subject"] for m in smtp.to(f"{name}@example.com")])
        mine = (await graphql(client, MINE, server.token(name), id=ids[name]))["backOrder"]
        assert [h["kind"] for h in mine["history"]].count("RELEASED") == 1
    carol = (await graphql(client, MINE, server.token("carol"), id=ids["carol"]))[
        "backOrder"]
    assert (carol["status"], carol["queuePosition"]) == ("WAITING", 1)
    text = smtp.to("alice@example.com")[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "set aside for you" in text and "early bird: a poster" in text


async def test_two_instances_and_a_worker_release_once_at_the_release_date(
        pg_database: str, smtp: SmtpSink, tmp_path: Path) -> None:
    env = _env(smtp)
    servers = [ServerProcess(pg_database, tmp_path / f"server{n}.log", **env)
               for n in range(2)]
    worker = worker_process(pg_database, **env)
    db = await asyncpg.connect(pg_database.replace("postgres://", "postgresql://"))
    try:
        async with httpx.AsyncClient(base_url=servers[0].url, timeout=30) as client:
            ids = await _pre_orders(client, servers[0])
            await asyncio.sleep(1)  # sweeps before the day: nothing released
            assert (await graphql(client, PRODUCT))["product"]["availability"] == "PREORDER"
            await db.execute("UPDATE product SET release_date = current_date")
            try:
                await _released_once(client, servers[1], smtp, ids)
            except AssertionError as exc:
                rows = await db.fetch("SELECT id, customer_id, event, status, attempts,"
                                      " claimed_by, last_error FROM notification ORDER BY id")
                raise AssertionError(f"{exc}\n{[dict(r) for r in rows]}") from None
    finally:
        await db.close()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        for server in servers:
            server.stop()


async def test_a_restart_at_the_release_moment_releases_once(
        pg_database: str, smtp: SmtpSink, tmp_path: Path) -> None:
    env = _env(smtp)
    server = ServerProcess(pg_database, tmp_path / "before.log", **env)
    db = await asyncpg.connect(pg_database.replace("postgres://", "postgresql://"))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            ids = await _pre_orders(client, server)
        server.process.kill()  # down hard as the day comes
        server.process.wait()
        server.stop()
        await db.execute("UPDATE product SET release_date = current_date")
        server = ServerProcess(pg_database, tmp_path / "after.log", **env)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await _released_once(client, server, smtp, ids)
        server.stop()
        # Started again after the release: nothing more.
        server = ServerProcess(pg_database, tmp_path / "again.log", **env)
        await asyncio.sleep(1.5)
        for name in CUSTOMERS:
            subjects = [m["Subject"] for m in smtp.to(f"{name}@example.com")]
            assert sum(s.startswith("Game is out") for s in subjects) == 1, subjects
    finally:
        await db.close()
        server.stop()


async def test_a_release_killed_half_way_is_done_once_after_the_restart(
        pg_database: str, smtp: SmtpSink, tmp_path: Path) -> None:
    """SIGKILL while the sweep releases 20,000 pre-orders: nothing of it is kept, and the
    restarted service releases every one of them once."""
    count = 20_000
    env = _env(smtp)
    server = ServerProcess(pg_database, tmp_path / "before.log", **env)
    db = await asyncpg.connect(pg_database.replace("postgres://", "postgresql://"))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await graphql(client, CREATE.replace("onHand: 2", f"onHand: {count}"),
                          server.token("staff", Role.STAFF))
        await bulk_queue(pg_database, "GAME", count)  # (bench/suite.py's, set-based)
        await db.execute("UPDATE back_order SET pre_order = true")
        await db.execute("UPDATE product SET release_date = current_date")
        await asyncio.sleep(1.0)  # the sweep has begun (a release of 20,000 takes seconds)
        server.process.kill()
        server.process.wait()
        server.stop()
        assert "released GAME" not in server.log(), "the release finished before the kill"
        assert await db.fetchval("SELECT released_at FROM product") is None
        assert await db.fetchval("SELECT count(*) FROM back_order_event"
                                 " WHERE kind = 'RELEASED'") == 0
        server = ServerProcess(pg_database, tmp_path / "after.log", **env)
        for _ in range(600):
            if await db.fetchval("SELECT released_at FROM product") is not None:
                break
            await asyncio.sleep(0.1)
        assert await db.fetchval(
            "SELECT count(*) FROM back_order_event WHERE kind = 'RELEASED'") == count
        assert await db.fetchval(
            "SELECT count(DISTINCT back_order_id) FROM back_order_event"
            " WHERE kind = 'RELEASED'") == count
        assert await db.fetchval(
            "SELECT count(*) FROM back_order WHERE status = 'ALLOCATED'") == count
        assert await db.fetchval("SELECT allocated FROM product") == count
    finally:
        await db.close()
        server.stop()

