"""Fixtures shared by every tier: a throwaway PostgreSQL server and per-test databases."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tortoise.backends.base import executor
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext

from api.store.database import migrate, tortoise_config
from tests.pgserver import PostgresServer, find_pg_bin
from tests.redisserver import RedisServer, find_redis

TABLES = (
    "waitlist_entry",
    "shipment",
    "wait_rating",
    "webhook_attempt",
    "webhook_delivery",
    "webhook_endpoint",
    "token_revocation",
    "notification_attempt",
    "notification",
    "notification_preferences",
    "outbox_event",
    "back_order_event",
    "back_order",
    "order_line",
    "customer_order",
    "restock",
    "product",
)


def _printable(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udXXX`` escapes, so it encodes as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Reports that survive the trip from a test process to the one that prints them.

    The suite runs in several processes (pytest-xdist), which send every report, captured
    output included, as UTF-8. Generated inputs are often strings with lone surrogates, and
    a log line or an assertion message that quotes one made the whole run stop with an
    internal error instead of a report."""
    report = yield
    report.sections = [(title, _printable(content)) for title, content in report.sections]
    if report.longrepr is not None:
        text = str(report.longrepr)
        if _printable(text) != text:
            report.longrepr = _printable(text)
    return report


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started from the installed binaries."""
    if find_pg_bin() is None:
        if os.environ.get("BACKORDERS_SKIP_POSTGRES") == "1":
            pytest.skip("BACKORDERS_SKIP_POSTGRES=1 and no PostgreSQL server binaries")
        pytest.fail("PostgreSQL server binaries not found: install Debian's postgresql package")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """A migrated database, emptied before each test that uses it."""
    url = postgres.create_database("backorders_test")
    asyncio.run(migrate(url))
    return url


def _sqlite_url(path: Path) -> str:
    return f"sqlite://{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, made once per test process: each test gets a copy (to
    migrate every test's database took about a second each, minutes of the suite)."""
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    asyncio.run(migrate(_sqlite_url(path)))
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return _sqlite_url(path)
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    executor.EXECUTOR_CACHE.clear()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await get_connection("default").execute_script(
            f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"
        )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """The ORM, connected to a fresh database of each kind, for the test's event loop."""
    # Tortoise caches INSERT statements per table name, not per dialect: this process
    # alternates SQLite and PostgreSQL, so start each test with an empty cache.
    executor.EXECUTOR_CACHE.clear()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        yield database_url


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if find_redis() is None:
        message = "redis-server not found: install Debian's redis-server package"
        if os.environ.get("CI"):  # .ci/run installs it: missing there is a failure
            pytest.fail(message)
        pytest.skip(message + " (.ci/run installs it)")
    server = RedisServer().start()
    yield server
    server.cleanup()
