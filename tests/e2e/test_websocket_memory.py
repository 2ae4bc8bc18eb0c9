"""Server memory per idle websocket subscriber, measured on a real ``backorders serve``; and
per-message compression, off unless asked for."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import websockets

from api.domain.identity import Role
from api.store.database import migrate
from tests.e2e.server import ServerProcess, graphql, ws_url

CREATE = 'mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {' \
         " __typename } }"
STOCK = 'subscription { productStockChanged(sku: "KB") { sku version stock { onHand } } }'
ADJUST = 'mutation { adjustStock(sku: "KB", delta: 1) { __typename } }'
# A guard against a regression (a buffer or task per socket again: 90 KiB each before
# 2026-11-23), not the target: the 40 KiB target is measured by the benchmark
# (`python -m bench --only 5`), on an idle machine; beside the suite's other test processes
# the same code reads 39.6-40.3 here.
CEILING_KIB = 48


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def subscribe(server: ServerProcess, token: str) -> Any:
    """As browsers do, the client offers permessage-deflate."""
    ws = await websockets.connect(ws_url(server), subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                                  compression="deflate", open_timeout=30, ping_interval=None)
    await ws.send(json.dumps({"type": "connection_init",
                              "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STOCK}}))
    first = json.loads(await ws.recv())
    assert first["type"] == "next", first
    return ws


async def next_version(ws: Any) -> int:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == "next":
            version: int = message["payload"]["data"]["productStockChanged"]["version"]
            return version


async def open_many(server: ServerProcess, token: str, count: int) -> list[Any]:
    gate = asyncio.Semaphore(50)

    async def one() -> Any:
        async with gate:
            return await subscribe(server, token)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_an_idle_subscriber_stays_light_on_the_server(tmp_path: Path) -> None:
    database = f"sqlite://{tmp_path / 'mem.sqlite3'}"
    await migrate(database)  # here: migrating in the server leaves freed memory it reuses
    server = ServerProcess(database, tmp_path / "server.log", "--no-migrate")
    sockets: list[Any] = []
    try:
        staff = server.token("staff-1", Role.STAFF)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await graphql(client, CREATE, staff)
            # The first ones pay one-time costs (imports, caches, the compiled plan, the
            # background tasks' first rounds), so they are more than the ones measured.
            sockets = await open_many(server, staff, 200)
            await asyncio.sleep(1.5)
            before = rss_kib(server.process.pid)
            more = await open_many(server, staff, 400)
            sockets += more
            await asyncio.sleep(1)
            per_subscriber = (rss_kib(server.process.pid) - before) / len(more)
            assert per_subscriber < CEILING_KIB, f"{per_subscriber:.1f} KiB per idle subscriber"
            # They are live subscribers: every one hears of the next change.
            await graphql(client, ADJUST, staff)
            versions = await asyncio.gather(*(next_version(ws) for ws in sockets))
            assert set(versions) == {2}
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        server.stop()


async def test_compression_is_off_by_default_and_works_when_turned_on(tmp_path: Path) -> None:
    for setting, offered in (("false", None), ("true", "permessage-deflate")):
        server = ServerProcess(f"sqlite://{tmp_path / f'z{setting}.sqlite3'}",
                               tmp_path / f"z{setting}.log",
                               BACKORDERS_WS_PER_MESSAGE_DEFLATE=setting)
        try:
            staff = server.token("staff-1", Role.STAFF)
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                await graphql(client, CREATE, staff)
                ws = await subscribe(server, staff)
                try:
                    agreed = ws.response.headers.get("Sec-WebSocket-Extensions")
                    assert (agreed.split(";")[0] if agreed else None) == offered
                    await graphql(client, ADJUST, staff)
                    assert await next_version(ws) == 2
                    # graphql-transport-ws keep-alive: a ping gets its pong.
                    await ws.send(json.dumps({"type": "ping"}))
                    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong"
                finally:
                    await ws.close()
        finally:
            server.stop()
