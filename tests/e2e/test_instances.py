"""Several instances on one PostgreSQL: a change made on one reaches subscribers of another."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql
from tests.e2e.test_subscriptions import PRODUCT_STOCK, subscriber
from tests.redisserver import RedisServer

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {
  __typename } }"""
ADJUST = 'mutation { adjustStock(sku: "KB", delta: 2) { __typename } }'


@pytest.fixture(params=["postgres", "redis"])
def broadcast(request: pytest.FixtureRequest, pg_database: str) -> str:
    if request.param == "postgres":
        return pg_database
    redis: RedisServer = request.getfixturevalue("redis_server")
    return redis.url


@pytest.fixture
def instances(pg_database: str, broadcast: str, tmp_path: Path) -> Iterator[
        tuple[ServerProcess, ServerProcess]]:
    first = ServerProcess(pg_database, tmp_path / "a.log", BACKORDERS_BROADCAST_URL=broadcast)
    second = ServerProcess(pg_database, tmp_path / "b.log", "--no-migrate",
                           BACKORDERS_BROADCAST_URL=broadcast)
    yield first, second
    first.stop()
    second.stop()


async def _change_on(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        await graphql(client, ADJUST, server.token("staff", Role.STAFF))


async def test_subscribe_on_one_instance_and_mutate_on_the_other(
    instances: tuple[ServerProcess, ServerProcess]
) -> None:
    first, second = instances
    async with httpx.AsyncClient(base_url=second.url) as client:
        await graphql(client, CREATE, second.token("staff", Role.STAFF))
    async with subscriber(first, None) as session:
        stream = session(PRODUCT_STOCK)
        [initial] = await stream.take(1)
        await _change_on(second)
        [changed] = await stream.take(1)
    assert changed["productStockChanged"]["version"] == (
        initial["productStockChanged"]["version"] + 1)
    assert changed["productStockChanged"]["stock"]["onHand"] == 2


async def test_a_restarted_redis_is_reconnected(
    pg_database: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    url = redis_server.url
    first = ServerProcess(pg_database, tmp_path / "a.log", BACKORDERS_BROADCAST_URL=url)
    second = ServerProcess(pg_database, tmp_path / "b.log", "--no-migrate",
                           BACKORDERS_BROADCAST_URL=url)
    try:
        async with httpx.AsyncClient(base_url=second.url) as client:
            await graphql(client, CREATE, second.token("staff", Role.STAFF))
        async with subscriber(first, None) as session:
            stream = session(PRODUCT_STOCK)
            await stream.take(1)
            redis_server.stop()
            await asyncio.sleep(1)
            redis_server.start()
            await _wait_ready(first, second)
            await _change_on(second)
            [changed] = await stream.take(1, timeout=30)
        assert changed["productStockChanged"]["stock"]["onHand"] == 2
    finally:
        first.stop()
        second.stop()


async def _wait_ready(*servers: ServerProcess) -> None:
    async with httpx.AsyncClient() as client:
        for server in servers:
            for _ in range(300):
                if (await client.get(f"{server.url}/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"{server.url} never became ready again")


DATABASE_GAUGES = ("backorders_notifications", "backorders_open_back_orders",
                   "backorders_notification_outbox_depth", "backorders_event_outbox_unpublished",
                   "backorders_open_backordered_units")


def _families(server: ServerProcess) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return {family.name: [(s.labels, s.value) for s in family.samples]
            for family in text_string_to_metric_families(text)}


def _exports(families: dict[str, list[tuple[dict[str, str], float]]]) -> bool:
    present = {name for name in DATABASE_GAUGES if name in families}
    assert present in (set(), set(DATABASE_GAUGES)), present  # all of them or none
    [(_, exporter)] = families["backorders_database_gauges_exporter"]
    assert exporter == (1 if present else 0)
    return bool(present)


def test_one_instance_exports_the_database_gauges_and_another_takes_over(
    pg_database: str, tmp_path: Path
) -> None:
    """Two instances on one database: a Prometheus ``sum`` over them counts the open back
    orders once; when the exporter stops, the other exports them from its next scrape."""
    first = ServerProcess(pg_database, tmp_path / "a.log")
    second = ServerProcess(pg_database, tmp_path / "b.log", "--no-migrate")
    try:
        answers = [_exports(_families(server)) for server in (first, second, first, second)]
        assert answers == [True, False, True, False]
        first.stop()
        assert _exports(_families(second))
    finally:
        first.stop()
        second.stop()
