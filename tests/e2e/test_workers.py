"""``backorders serve --workers 2`` on PostgreSQL: two processes on one port, each with its
own hub, sharing live events through the broadcast; supervised, and stopped as one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from api.domain.identity import Role
from api.store.database import migrate
from tests.e2e.server import ServerProcess, backorders_command, graphql, ws_url
from tests.pgserver import PostgresServer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="finds a connection's process in /proc")

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {
  __typename } }"""
ADJUST = 'mutation { adjustStock(sku: "KB", delta: 2) { __typename } }'
PRODUCT_STOCK = 'subscription { productStockChanged(sku: "KB") { version stock { onHand } } }'


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> str:
    """Migrated once: every service here starts with ``--no-migrate`` (a start takes seconds,
    as each worker imports and builds the whole app)."""
    url = postgres.create_database("e2e_workers")
    asyncio.run(migrate(url))
    return url


@pytest.fixture(scope="module")
def workers(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        ServerProcess]:
    """One service for the tests that leave it serving with two workers."""
    yield from _serving_with_two(database, tmp_path_factory.mktemp("workers"))


@pytest.fixture
def stopped(database: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A service of its own (on the same database), for a test that stops it."""
    yield from _serving_with_two(database, tmp_path)


def _serving_with_two(database: str, folder: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(database, folder / "server.log", "--workers", "2", "--no-migrate",
                           BACKORDERS_BROADCAST_URL=database)
    yield server
    server.stop()


def _answering_pid(url: str) -> int:
    """The pid in ``/healthz``'s answer, on a new connection each time."""
    response = httpx.get(f"{url}/healthz", timeout=5)
    assert response.status_code == 200, response.text
    pid: int = response.json()["pid"]
    return pid


def _pids_answering(server: ServerProcess, count: int, timeout: float = 60) -> set[int]:
    """Ask on new connections until ``count`` processes have answered."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        seen.add(_answering_pid(server.url))
    assert len(seen) >= count, f"only {seen} answered:\n{server.log()}"
    return seen


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _children_of(parent: int) -> set[int]:
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _parent_of(int(entry.name)) == parent:
                    children.add(int(entry.name))
            except (OSError, IndexError):  # gone meanwhile
                pass
    return children


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _gone(pids: set[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_running(pid) for pid in pids)


def _serving(server: ServerProcess, peer_port: int) -> int:
    """The worker holding the server's end of the TCP connection from ``peer_port``."""
    ends = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(a.rsplit(":", 1)[1], 16) for a in fields[1:3])
            if (local, remote) == (server.port, peer_port):
                ends.add(f"socket:[{fields[9]}]")
    for pid in _children_of(server.process.pid):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in ends:
                    return pid
            except OSError:
                pass
    raise AssertionError(f"no worker holds the connection from port {peer_port}")


async def _subscribe(socket: ClientConnection, query: str) -> dict[str, Any]:
    """graphql-transport-ws: init, subscribe, and the subscription's first answer."""
    await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return await _next(socket)


async def _next(socket: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(socket.recv(), 15))
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]
    return data


def test_answers_come_from_two_worker_processes(workers: ServerProcess) -> None:
    pids = _pids_answering(workers, 2)
    assert len(pids) == 2
    assert workers.process.pid not in pids
    assert {_parent_of(pid) for pid in pids} == {workers.process.pid}


async def test_a_subscriber_on_one_worker_sees_a_change_made_on_the_other(
    workers: ServerProcess
) -> None:
    staff = workers.token("staff", Role.STAFF)
    async with httpx.AsyncClient(base_url=workers.url) as client:
        await graphql(client, CREATE, staff)
    protocol = Subprotocol("graphql-transport-ws")
    async with connect(ws_url(workers), subprotocols=[protocol]) as socket:
        subscribed = _serving(workers, socket.local_address[1])
        initial = (await _subscribe(socket, PRODUCT_STOCK))["productStockChanged"]
        one = httpx.Limits(max_connections=1)  # the same connection for every request
        for _ in range(200):
            async with httpx.AsyncClient(base_url=workers.url, limits=one) as client:
                mutated = (await client.get("/healthz")).json()["pid"]
                if mutated == subscribed:
                    continue
                await graphql(client, ADJUST, staff)
                assert (await client.get("/healthz")).json()["pid"] == mutated
                break
        else:
            raise AssertionError(f"every connection went to {subscribed}")
        changed = (await _next(socket))["productStockChanged"]
    assert mutated != subscribed
    assert changed == {"version": initial["version"] + 1, "stock": {"onHand": 2}}


def test_a_killed_worker_is_replaced_while_the_other_serves(workers: ServerProcess) -> None:
    killed, other = sorted(_pids_answering(workers, 2))
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _running(killed) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _running(killed)
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while not seen - {other} and time.monotonic() < deadline:
        seen.add(_answering_pid(workers.url))  # every request answered meanwhile
        time.sleep(0.05)
    assert killed not in seen
    [replacement] = seen - {other}
    assert _parent_of(replacement) == workers.process.pid
    assert "died (exit code -9); starting another" in workers.log()


def test_sigterm_stops_every_worker_and_exits_0(stopped: ServerProcess) -> None:
    pids = _pids_answering(stopped, 2)
    children = _children_of(stopped.process.pid)
    assert pids <= children
    stopped.process.send_signal(signal.SIGTERM)
    assert stopped.process.wait(timeout=15) == 0
    assert "Stopping parent process" in stopped.log()
    assert _gone(children)  # multiprocessing's resource tracker ends just after the parent


def test_workers_stop_when_their_supervisor_is_killed(stopped: ServerProcess) -> None:
    children = _children_of(stopped.process.pid)
    assert _pids_answering(stopped, 2) <= children
    stopped.process.kill()
    assert _gone(children)


def test_several_workers_with_memory_broadcast_are_refused(tmp_path: Path) -> None:
    database = tmp_path / "untouched.sqlite3"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BACKORDERS_")}
    env = {**clean, "BACKORDERS_DATABASE_URL": f"sqlite://{database}",
           "BACKORDERS_BROADCAST_URL": "memory://"}
    run = subprocess.run([*backorders_command(), "serve", "--workers", "2"],
                         capture_output=True, text=True, timeout=60, check=False, env=env)
    assert run.returncode == 2, run.stderr
    assert "cannot serve with 2 workers: BACKORDERS_BROADCAST_URL is memory://" in run.stderr
    assert not database.exists()  # refused before migrating
