"""Revoking on one instance reaches another: HTTP 401 and an open socket closed 4403."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql, ws_url
from tests.e2e.test_websocket_rules import GRAPHQL_WS, TRANSPORT_WS, _closed, _connect

REVOKE = 'mutation { revokeTokens(subject: "alice") { __typename } }'
ME = "{ products { totalCount } }"
POLL = 0.5


@pytest.fixture
def pair(pg_database: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"BACKORDERS_BROADCAST_URL": pg_database,
           "BACKORDERS_REVOCATION_POLL_SECONDS": str(POLL)}
    first = ServerProcess(pg_database, tmp_path / "a.log", **env)
    second = ServerProcess(pg_database, tmp_path / "b.log", "--no-migrate", **env)
    yield first, second
    first.stop()
    second.stop()


async def _status(server: ServerProcess, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/graphql", json={"query": ME},
                                   headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


async def _init_refused(server: ServerProcess, token: str) -> tuple[int | None, str | None]:
    ws = await websockets.connect(ws_url(server), subprotocols=[TRANSPORT_WS],  # type: ignore[list-item]
                                  open_timeout=10)
    await ws.send(json.dumps({"type": "connection_init",
                              "payload": {"Authorization": f"Bearer {token}"}}))
    return await _closed(ws, timeout=5)


async def test_a_revocation_on_one_instance_refuses_the_token_on_the_other(
    pair: tuple[ServerProcess, ServerProcess]
) -> None:
    first, second = pair
    old = second.token("alice")
    assert await _status(second, old) == 200
    sockets = [await _connect(second, protocol, old) for protocol in (TRANSPORT_WS, GRAPHQL_WS)]

    async with httpx.AsyncClient(base_url=first.url) as client:
        await graphql(client, REVOKE, first.token("staff", Role.STAFF))

    for ws in sockets:
        assert await _closed(ws, timeout=POLL * 6) == (4403, "token revoked")
    assert await _status(second, old) == 401
    assert (await _init_refused(second, old))[0] == 4403
    await asyncio.sleep(1.05 - time.time() % 1)  # iat is in whole seconds
    fresh = second.token("alice")
    assert await _status(second, fresh) == 200
    await (await _connect(second, TRANSPORT_WS, fresh)).close()
