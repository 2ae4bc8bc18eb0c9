"""A real server process per test, on SQLite or on its own PostgreSQL database."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.pgserver import PostgresServer
from tests.sinks import SmtpSink

_names = itertools.count()


@pytest.fixture
def pg_database(postgres: PostgresServer) -> str:
    return postgres.create_database(f"e2e_{next(_names)}")


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'e2e.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")
    process = ServerProcess(url, tmp_path / "server.log")
    yield process
    process.stop()


@pytest.fixture
def pg_server(pg_database: str, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(pg_database, tmp_path / "server.log")
    yield process
    process.stop()


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture
async def pg_client(pg_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=pg_server.url, timeout=60, limits=limits) as http:
        yield http


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server that keeps what it receives (``tests/sinks.py``)."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()
