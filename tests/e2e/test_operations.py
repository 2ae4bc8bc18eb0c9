"""Running it: readiness, metrics, logs, and a graceful restart under a live subscriber."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import websockets
from prometheus_client.parser import text_string_to_metric_families

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql, worker_process, ws_url

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {
  __typename } }"""
PLACE = """mutation($k: String!) { placeOrder(input: {lines: [{sku: "KB", quantity: 2}],
  idempotencyKey: $k}) { ... on PlaceOrderPayload { order { backOrders { id } } } } }"""
ADJUST = 'mutation { adjustStock(sku: "KB", delta: 1) { __typename } }'
PREFER = """mutation { setNotificationPreferences(input: {email: "alice@example.com",
  channels: [EMAIL]}) { __typename } }"""
SCHEDULE = """mutation($date: Date!) { scheduleRestock(input: {sku: "KB", quantity: 50,
  expectedDate: $date}) { ... on RestockPayload { restock { id } } } }"""
RESCHEDULE = """mutation($id: ID!, $date: Date!) { rescheduleRestock(id: $id,
  expectedDate: $date) { __typename } }"""


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_show_what_the_test_caused(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'm.sqlite3'}", tmp_path / "m.log")
    try:
        staff, alice = server.token("staff", Role.STAFF), server.token("alice")
        async with httpx.AsyncClient(base_url=server.url) as client:
            await graphql(client, CREATE, staff)
            await graphql(client, PREFER, alice)
            for key in ("a", "b", "c"):
                await graphql(client, PLACE, alice, k=key)
            await graphql(client, ADJUST, staff)
            async with websockets.connect(ws_url(server),
                                          subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                await ws.recv()
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                    "query": 'subscription { productStockChanged(sku: "KB") { version } }'}}))
                await ws.recv()
                scraped = (await client.get("/metrics")).text
    finally:
        server.stop()
    samples = _samples(scraped)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("backorders_graphql_requests_total", operation="mutation:placeOrder",
                 outcome="ok") == 3
    assert value("backorders_graphql_request_seconds_count",
                 operation="mutation:placeOrder") == 3
    assert value("backorders_allocations_total") == 1
    assert value("backorders_open_backordered_units") == 5
    assert value("backorders_open_back_orders", status="WAITING") == 2
    assert value("backorders_open_back_orders", status="PARTIALLY_ALLOCATED") == 1
    assert value("backorders_websocket_connections") == 1
    assert value("backorders_active_subscriptions") == 1
    # No email service is configured: each message was suppressed, and counted by channel.
    assert value("backorders_notifications", channel="EMAIL", status="SUPPRESSED") >= 3
    assert value("backorders_notification_outbox_depth") >= 0
    assert ("backorders_notification_outbox_oldest_due_seconds", ()) in samples
    assert not any("alice" in str(key) for key in samples)  # no per-customer labels


def test_ready_only_once_migrated(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'r.sqlite3'}", tmp_path / "r.log",
                           "--no-migrate", ready="/healthz")
    try:
        response = httpx.get(f"{server.url}/readyz")
    finally:
        server.stop()
    assert response.status_code == 503
    assert "migrations not applied: 0001_initial" in response.json()["reason"]


async def test_production_logs_are_json_lines_without_tokens(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'l.sqlite3'}", tmp_path / "l.log",
                           BACKORDERS_ENVIRONMENT="production")
    try:
        token = server.token("alice")
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.post("/graphql", json={"query": "{ viewer { id } }"},
                                         headers={"Authorization": f"Bearer {token}",
                                                  "X-Request-ID": "req-42"})
        assert response.headers["X-Request-ID"] == "req-42"
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    [request] = [line for line in lines if line.get("request_id") == "req-42"]
    assert request["operation"] == "query:viewer" and request["status"] == 200
    assert request["role"] == "customer" and request["level"] == "INFO"
    assert token not in server.log()


async def test_sigterm_moves_a_subscriber_to_the_other_instance_without_a_gap(
    pg_database: str, tmp_path: Path
) -> None:
    first = ServerProcess(pg_database, tmp_path / "a.log", BACKORDERS_BROADCAST_URL=pg_database,
                          BACKORDERS_DISPATCHER="off")
    second = ServerProcess(pg_database, tmp_path / "b.log", "--no-migrate",
                           BACKORDERS_BROADCAST_URL=pg_database, BACKORDERS_DISPATCHER="off")
    worker = worker_process(pg_database)
    try:
        staff, alice = second.token("staff", Role.STAFF), second.token("alice")
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            await graphql(client, CREATE, staff)
            placed = await graphql(client, PLACE, alice, k="sigterm")
            bo_id = placed["placeOrder"]["order"]["backOrders"][0]["id"]
            restock = (await graphql(client, SCHEDULE, staff, date=_in(5)))[
                "scheduleRestock"]["restock"]["id"]
            seen: list[int] = []
            closes: list[int] = []
            listener = asyncio.create_task(
                _follow(bo_id, alice, [first, second], seen, closes, last=31))
            await asyncio.sleep(1)
            for step in range(30):  # 30 changes: versions 2..31
                if step == 10:
                    first.process.send_signal(signal.SIGTERM)
                await graphql(client, RESCHEDULE, staff, id=restock, date=_in(6 + step))
                await asyncio.sleep(0.05)
            await asyncio.wait_for(listener, 60)
        first.process.wait(timeout=30)  # uvicorn re-raises SIGTERM once it has stopped
        assert "Application shutdown complete" in first.log()  # the lifespan ran to its end
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        first.stop()
        second.stop()
    assert closes and closes[0] == 1001
    # From the state it first saw (the restock had already moved its date) to the last
    # change, every version exactly once, across the restart.
    assert seen[0] <= 2 and seen == list(range(seen[0], 32))


async def _follow(bo_id: str, token: str, servers: list[ServerProcess], seen: list[int],
                  closes: list[int], last: int) -> None:
    """A client that resumes on the next server with ``sinceVersion`` when one goes away."""
    query = """subscription($id: ID!, $since: Int) {
      backOrderUpdated(id: $id, sinceVersion: $since) { version } }"""
    for server in servers:
        try:
            async with websockets.connect(ws_url(server),
                                          subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send(json.dumps({"type": "connection_init",
                                          "payload": {"Authorization": f"Bearer {token}"}}))
                await ws.recv()
                since = seen[-1] if seen else None
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                    "query": query, "variables": {"id": bo_id, "since": since}}}))
                async for raw in ws:
                    message: dict[str, Any] = json.loads(raw)
                    if message["type"] == "next":
                        seen.append(message["payload"]["data"]["backOrderUpdated"]["version"])
                        if seen[-1] == last:
                            return
        except websockets.ConnectionClosed as closed:
            closes.append(closed.rcvd.code if closed.rcvd else 1006)
        if ws.close_code is not None and not closes:
            closes.append(ws.close_code)


def _in(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
