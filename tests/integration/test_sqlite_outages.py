"""An SQLite file that is locked by another process or read-only: writes answer 503 with
``Retry-After`` and SERVICE_UNAVAILABLE, /readyz says why; a lock shorter than the busy
timeout is waited for; a transaction holds the file's write lock from its start."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from api.app import create_app
from api.auth import mint
from api.domain.identity import Role
from api.settings import Settings
from api.store.database import migrate, tortoise_config
from api.store.models import Product
from tests.integration.operations import CREATE_PRODUCT

BUSY_MS = 300


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    return path


async def _connected(url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=url, rate_limit_anonymous="100000/minute")
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url, busy_timeout_ms=BUSY_MS))
        token = mint(settings, "staff-1", Role.STAFF, timedelta(hours=1))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)),
                                     base_url="http://test",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            yield client


@pytest.fixture
async def client(sqlite_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _connected(f"sqlite://{sqlite_file}"):
        yield client


async def create(client: httpx.AsyncClient, sku: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": CREATE_PRODUCT, "variables": {
        "input": {"sku": sku, "name": sku, "price": "1.00", "onHand": 1}}})


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    body: dict[str, Any] = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]


async def test_a_file_locked_past_the_busy_timeout_is_unavailable_then_recovers(
        client: httpx.AsyncClient, sqlite_file: Path) -> None:
    other = sqlite3.connect(sqlite_file, isolation_level=None)  # another process's writer
    other.execute("BEGIN IMMEDIATE")
    assert_unavailable(await create(client, "KB"))
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and "locked" in ready.json()["reason"]
    other.execute("ROLLBACK")
    other.close()
    assert (await create(client, "KB")).json()["data"]["createProduct"]["__typename"] == (
        "ProductPayload")
    # Without the lifespan the event bus is not started: ready but for it.
    assert "database" not in (await client.get("/readyz")).json().get("reason", "")


async def test_a_lock_shorter_than_the_busy_timeout_is_waited_for(
        client: httpx.AsyncClient, sqlite_file: Path) -> None:
    other = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(BUSY_MS / 3000, other.execute, "COMMIT")
    response = await create(client, "KB")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["createProduct"]["__typename"] == "ProductPayload"
    other.close()


async def test_a_transaction_takes_the_write_lock_when_it_begins(
        client: httpx.AsyncClient, sqlite_file: Path) -> None:
    """With a deferred BEGIN, another process's commit between this transaction's read and
    its write fails the write at once (SQLITE_BUSY_SNAPSHOT), whatever the busy timeout."""
    other = sqlite3.connect(sqlite_file, isolation_level=None, timeout=0)
    async with in_transaction():
        await Product.all().count()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO tortoise_migrations (app, name, applied_at) "
                          "VALUES ('x', 'x', '2026-01-01')")
        await Product.create(sku="KB", name="KB", price="1.00", on_hand=1)
    other.close()


async def test_a_read_only_file_is_unavailable_for_writes(sqlite_file: Path) -> None:
    # query_only is how a read-only file answers (SQLITE_READONLY), also as root.
    async for client in _connected(f"sqlite://{sqlite_file}?query_only=ON"):
        assert_unavailable(await create(client, "KB"))
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "readonly" in ready.json()["reason"]
