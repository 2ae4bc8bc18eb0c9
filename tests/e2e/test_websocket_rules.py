"""The websocket's rules against a real ``backorders serve``, on both protocols: a bad message
closes with 4400 and a reason, operations without a token count against the per-address
anonymous limit, and a socket closes when its token expires."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from api.auth import mint
from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql, ws_url

TRANSPORT_WS, GRAPHQL_WS = "graphql-transport-ws", "graphql-ws"
PROTOCOLS = [TRANSPORT_WS, GRAPHQL_WS]
START = {TRANSPORT_WS: "subscribe", GRAPHQL_WS: "start"}
CREATE = 'mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {' \
         " __typename } }"
STOCK = 'subscription { productStockChanged(sku: "KB") { sku version } }'
DEEP = 100_000


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _start(protocol: str, payload: Any, op_id: str = "1") -> str:
    return json.dumps({"id": op_id, "type": START[protocol], "payload": payload})


BAD_MESSAGES = [
    (lambda p: _start(p, 5), "payload must be an object"),
    (lambda p: _start(p, {"query": 5}), "payload.query must be a string"),
    (lambda p: _start(p, {"query": STOCK, "variables": []}),
     "payload.variables must be an object"),
    (lambda p: _start(p, {"query": STOCK}, op_id="x" * 200),
     "id must be a string of 1 to 64 bytes"),
    (lambda p: f'{{"id": "1", "type": "{START[p]}", "payload": {{"query": "{{ a }}", '
               f'"variables": {{"x": {_nested(DEEP)}}}}}}}', "message nested too deeply"),
    (lambda p: _nested(DEEP), "message nested too deeply"),
    (lambda p: "5", "message must be a JSON object"),
    (lambda p: '{"type": 5}', "message type must be a string"),
    (lambda p: "{not json", "message is not valid JSON"),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the tests that change nothing of its state but its product."""
    folder = tmp_path_factory.mktemp("ws-rules")
    process = ServerProcess(f"sqlite://{folder / 'db.sqlite3'}", folder / "server.log")
    httpx.post(f"{process.url}/graphql", json={"query": CREATE}, timeout=30,
               headers={"Authorization": f"Bearer {process.token('staff', Role.STAFF)}"})
    yield process
    process.stop()


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(f"sqlite://{tmp_path / 'db.sqlite3'}", tmp_path / "server.log",
                            BACKORDERS_RATE_LIMIT_ANONYMOUS="4/minute")
    yield process
    process.stop()


async def _connect(server: ServerProcess, protocol: str, token: str | None = None) -> Any:
    ws = await websockets.connect(ws_url(server), subprotocols=[protocol],  # type: ignore[list-item]
                                  open_timeout=10, ping_interval=None, max_size=None)
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert (await _receive(ws))["type"] == "connection_ack"
    return ws


async def _receive(ws: Any, timeout: float = 10) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "ka":  # graphql-ws keep-alives
            return message


async def _closed(ws: Any, timeout: float = 10) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return ws.close_code, ws.close_reason


async def _answered(ws: Any, protocol: str, op_id: str) -> dict[str, Any]:
    """The first message for operation ``op_id`` (its data, or its error)."""
    await ws.send(_start(protocol, {"query": STOCK}, op_id))
    while True:
        message = await _receive(ws)
        if message.get("id") == op_id:
            return message


@pytest.mark.parametrize(("make", "reason"), BAD_MESSAGES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_bad_message_closes_with_4400_and_says_why(
    shared: ServerProcess, protocol: str, make: Any, reason: str
) -> None:
    ws = await _connect(shared, protocol)
    await ws.send(make(protocol))
    assert await _closed(ws) == (4400, reason)
    ws = await _connect(shared, protocol)  # nothing else changed: the next client is served
    assert (await _answered(ws, protocol, "1"))["type"] in {"next", "data"}
    await ws.close()
    assert "Traceback" not in shared.log()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_websocket_operations_without_a_token_count_against_the_anonymous_limit(
    limited: ServerProcess, protocol: str
) -> None:
    staff = limited.token("staff", Role.STAFF)
    async with httpx.AsyncClient(base_url=limited.url, timeout=30) as client:
        await graphql(client, CREATE, staff)  # with a token: not counted
        ws = await _connect(limited, protocol)
        answers = [await _answered(ws, protocol, str(n)) for n in range(5)]
        assert [a["type"] for a in answers[:4]] in (["next"] * 4, ["data"] * 4)
        refused = answers[4]
        assert refused["type"] == "error"
        [error] = refused["payload"] if protocol == TRANSPORT_WS else [refused["payload"]]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfterSeconds"] >= 1
        assert error["message"].startswith("too many requests")
        # The socket stays: an operation already running goes on, and a client with a token
        # is not limited; HTTP shares the count.
        await graphql(client, 'mutation { adjustStock(sku: "KB", delta: 1) { __typename } }',
                      staff)
        assert (await _receive(ws))["type"] in {"next", "data"}
        with_token = await _connect(limited, protocol, staff)
        assert (await _answered(with_token, protocol, "1"))["type"] in {"next", "data"}
        response = await client.post("/graphql", json={"query": "{ __typename }"})
        assert response.status_code == 429
        await ws.close()
        await with_token.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_closes_when_its_token_expires_and_a_fresh_token_reconnects(
    shared: ServerProcess, protocol: str
) -> None:
    short = mint(shared.settings, "alice", Role.CUSTOMER, timedelta(seconds=2))
    ws = await _connect(shared, protocol, short)
    assert (await _answered(ws, protocol, "1"))["type"] in {"next", "data"}
    assert await _closed(ws, timeout=5) == (4403, "token expired")
    ws = await _connect(shared, protocol, shared.token("alice"))
    assert (await _answered(ws, protocol, "1"))["type"] in {"next", "data"}
    await ws.close()
    assert "Traceback" not in shared.log()
