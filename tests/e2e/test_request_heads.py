"""A request's headers are bounded in size, count and time, on a real ``backorders serve``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from api.server import HEAD_SECONDS, MAX_HEAD_BYTES, MAX_HEADERS
from tests.e2e.server import ServerProcess
from tests.e2e.test_websocket_memory import rss_kib

REQUEST_LINE = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("heads")
    process = ServerProcess(f"sqlite://{folder / 'db.sqlite3'}", folder / "server.log")
    yield process
    process.stop()


async def _send(server: ServerProcess, head: bytes) -> tuple[int, dict[str, object]]:
    """Send ``head`` (unfinished or not) and read the answer up to the server's close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(head)
    answer = await asyncio.wait_for(reader.read(), HEAD_SECONDS + 5)
    writer.close()
    status_line, _, body = answer.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), json.loads(body)


def _ready(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200


async def test_headers_over_the_size_limit_get_431(shared: ServerProcess) -> None:
    padding = MAX_HEAD_BYTES + 1 - len(REQUEST_LINE) - len(b"X-Big: ")
    status, body = await _send(shared, REQUEST_LINE + b"X-Big: " + b"a" * padding)
    assert status == 431
    assert body["errors"] == [{"message": f"request headers over {MAX_HEAD_BYTES} bytes",
                               "extensions": {"code": "BAD_REQUEST"}}]
    _ready(shared)


async def test_headers_within_the_size_limit_are_served(shared: ServerProcess) -> None:
    response = httpx.get(f"{shared.url}/readyz", headers={"X-Big": "a" * 32_000}, timeout=10)
    assert response.status_code == 200


async def test_more_headers_than_the_count_limit_get_431(shared: ServerProcess) -> None:
    many = b"".join(b"X-%d: 1\r\n" % n for n in range(MAX_HEADERS + 1))
    status, body = await _send(shared, REQUEST_LINE + many + b"\r\n")
    assert status == 431
    assert body["errors"][0]["message"] == f"over {MAX_HEADERS} request headers"  # type: ignore[index]
    _ready(shared)


async def test_headers_not_finished_in_time_get_408(shared: ServerProcess) -> None:
    started = time.monotonic()
    status, _ = await _send(shared, REQUEST_LINE + b"X-Slow: 1\r\n")
    assert status == 408
    assert HEAD_SECONDS - 0.5 < time.monotonic() - started < HEAD_SECONDS + 3
    _ready(shared)


async def test_five_unfinished_20_mb_headers_hold_little_memory(shared: ServerProcess) -> None:
    before = rss_kib(shared.process.pid)
    chunk = b"a" * 1024 * 1024

    async def flood() -> int:
        _, writer = await asyncio.open_connection("127.0.0.1", shared.port)
        sent = 0
        with contextlib.suppress(ConnectionError):
            writer.write(REQUEST_LINE + b"X-Big: ")
            for _ in range(20):
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
        writer.close()
        return sent

    sent = await asyncio.wait_for(asyncio.gather(*(flood() for _ in range(5))), 30)
    assert all(s < 20 * len(chunk) for s in sent), sent  # refused before the end
    assert rss_kib(shared.process.pid) - before < 10 * 1024
    _ready(shared)


def test_the_server_log_has_no_traceback(shared: ServerProcess) -> None:
    assert "Traceback" not in shared.log()
