"""PostgreSQL stopped under load: every client gets 503 with Retry-After and
SERVICE_UNAVAILABLE (never a 200 with INTERNAL_ERROR), /readyz is 503, the log tells the
outage once; started again, the service recovers by itself and no acknowledged order is
lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql
from tests.pgserver import PostgresServer

PRODUCT = """mutation { createProduct(input: {sku: "MUG", name: "Mug", price: "10.00",
                                               onHand: 100000}) { __typename } }"""
PLACE = """mutation($key: String!) {
  placeOrder(input: {lines: [{sku: "MUG", quantity: 1}], idempotencyKey: $key}) {
    __typename ... on PlaceOrderPayload { order { id } }
  }
}"""
ORDER = """query($id: ID!) { order(id: $id) { id } }"""
CLIENTS = 8


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


class Load:
    """Clients placing orders as fast as they are answered; what each answer was."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client, self.token = client, token
        self.acknowledged: list[str] = []
        self.unavailable = 0
        self.wrong: list[str] = []
        self.running = True
        self._n = 0

    async def one(self) -> bool:
        self._n += 1
        response = await self.client.post(
            "/graphql", json={"query": PLACE, "variables": {"key": f"k-{self._n}"}},
            headers={"Authorization": f"Bearer {self.token}"})
        body: dict[str, Any] = response.json()
        if response.status_code == 200 and "errors" not in body:
            self.acknowledged.append(body["data"]["placeOrder"]["order"]["id"])
            return True
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        if response.status_code == 503 and response.headers.get("retry-after") and (
                codes == ["SERVICE_UNAVAILABLE"]):
            self.unavailable += 1
        else:
            self.wrong.append(f"{response.status_code} {body}")
        return False

    async def client_loop(self) -> None:
        while self.running:
            if not await self.one():
                await asyncio.sleep(0.05)


async def _until(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_postgres_stopped_under_load_is_503_and_recovers_with_every_order(
        own_postgres: PostgresServer, tmp_path: Path) -> None:
    server = ServerProcess(own_postgres.create_database("shop"), tmp_path / "server.log")
    try:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            staff = server.token("staff-1", Role.STAFF)
            await graphql(client, PRODUCT, staff)
            load = Load(client, server.token("alice"))
            tasks = [asyncio.create_task(load.client_loop()) for _ in range(CLIENTS)]
            await _until(lambda: _more_than(load.acknowledged, 20), 20)

            await asyncio.to_thread(own_postgres.pause)
            before = load.unavailable
            await _until(lambda: _more_than_n(load, before + 3 * CLIENTS), 20)
            ready = await client.get("/readyz")
            assert ready.status_code == 503, ready.text

            await asyncio.to_thread(own_postgres.resume)
            count = len(load.acknowledged)
            await _until(lambda: _more_than(load.acknowledged, count + 20), 30)
            load.running = False
            await asyncio.gather(*tasks)

            assert load.wrong == []
            await _until(lambda: _is_ready(client), 10)
            for order_id in load.acknowledged:
                data = await graphql(client, ORDER, staff, id=order_id)
                assert data["order"] == {"id": order_id}
    finally:
        server.stop()
    log = server.log()
    # Once per outage, not per request (a request that committed as the server stopped may
    # be answered after the first failure: at most one more pair of lines).
    assert 1 <= log.count("PostgreSQL unavailable") <= 2 < load.unavailable, log
    assert "available again" in log
    assert "INTERNAL_ERROR" not in log and "unexpected error" not in log


async def _more_than(items: list[str], n: int) -> bool:
    return len(items) > n


async def _more_than_n(load: Load, n: int) -> bool:
    return load.unavailable > n


async def _is_ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200
