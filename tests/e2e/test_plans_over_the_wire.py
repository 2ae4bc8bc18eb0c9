"""Over HTTP and both websocket protocols, a server with plans answers as one without them:
generated documents (``tests/documents.py``), every role and a bad token, two real
``backorders serve`` processes on one PostgreSQL database (and one broker), compared on the
whole answer: status, media type and body over HTTP; every frame of a subscription (its
first message, and the one after a change) over websockets. ``BACKORDERS_DIFFERENTIAL_EXAMPLES``
sets the size."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import websockets
from hypothesis import HealthCheck, given, settings

from api.domain.identity import Role
from tests.documents import Document, documents
from tests.e2e.server import ServerProcess, graphql, ws_url
from tests.inprocess import schema

EXAMPLES = int(os.environ.get("BACKORDERS_DIFFERENTIAL_EXAMPLES", "60"))
SKUS = ["KB", "LAMP", "NONE"]
CREATE = ("mutation($i: CreateProductInput!) { createProduct(input: $i) { __typename } }")
ORDER = ('mutation($k: String!) { placeOrder(input: {lines: [{sku: "KB", quantity: 2}], '
         'idempotencyKey: $k}) { ... on PlaceOrderPayload { order { id backOrders { id } } } } }')
ADJUST = 'mutation { adjustStock(sku: "KB", delta: 1) { __typename } }'
PROTOCOLS = {"graphql-transport-ws": ("subscribe", "next"), "graphql-ws": ("start", "data")}


def _generated(kind: str, ids: list[Any], count: int) -> list[Document]:
    cases: list[Document] = []

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(documents(schema._schema, kind, SKUS, ids))
    def collect(document: Document) -> None:
        cases.append(document)

    collect()
    return cases


def _scrub(value: Any) -> Any:
    """Error references are random; everything else must match."""
    if isinstance(value, dict):
        return {k: ("<ref>" if k == "errorId" else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and value.startswith("Unexpected error (reference "):
        return "Unexpected error"
    return value


def _answer(response: httpx.Response) -> tuple[Any, ...]:
    body: Any = response.text
    if "json" in response.headers.get("content-type", ""):
        body = _scrub(response.json())
    return response.status_code, response.headers.get("content-type"), body


async def _given(server: ServerProcess) -> tuple[dict[str, str], list[Any]]:
    tokens = {"staff": server.token("staff-1", Role.STAFF), "alice": server.token("alice"),
              "bob": server.token("bob")}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await graphql(client, CREATE, tokens["staff"], i={"sku": "KB", "name": "Keyboard",
                                                           "price": "49.50", "onHand": 1})
        await graphql(client, CREATE, tokens["staff"], i={
            "sku": "LAMP", "name": "Lamp", "price": "20.00",
            "policy": {"allowBackorders": False}})
        ids: list[Any] = []
        for n, who in enumerate(("alice", "bob")):
            placed = await graphql(client, ORDER, tokens[who], k=f"wire-{n}")
            order = placed["placeOrder"]["order"]
            ids += [order["id"], *(b["id"] for b in order["backOrders"])]
    return tokens, [*ids, int(ids[-1]), 9999, "nope"]


def _servers(pg_database: str, tmp_path: Path) -> tuple[ServerProcess, ServerProcess]:
    broker = pg_database.replace("asyncpg://", "postgres://")
    planned = ServerProcess(pg_database, tmp_path / "planned.log",
                            BACKORDERS_BROADCAST_URL=broker)
    executor = ServerProcess(pg_database, tmp_path / "executor.log", "--no-migrate",
                             BACKORDERS_BROADCAST_URL=broker, BACKORDERS_FAST_QUERIES="false")
    return planned, executor


def _headers(tokens: dict[str, str], who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    token = tokens.get(who, "not-a-token")
    return {"Authorization": f"Bearer {token}"}


async def test_generated_queries_answer_alike_over_http(pg_database: str,
                                                        tmp_path: Path) -> None:
    planned, executor = _servers(pg_database, tmp_path)
    try:
        tokens, ids = await _given(planned)
        cases = _generated("query", ids, EXAMPLES)
        async with (httpx.AsyncClient(base_url=planned.url, timeout=30) as ours,
                    httpx.AsyncClient(base_url=executor.url, timeout=30) as theirs):
            for n, document in enumerate(cases):
                who = ["anonymous", "alice", "bob", "staff", "bad token"][n % 5]
                accept = ["application/json", "application/graphql-response+json"][n % 2]
                request = {"query": document.query, "variables": document.variables}
                headers = {**_headers(tokens, who), "Accept": accept}
                a = await ours.post("/graphql", json=request, headers=headers)
                b = await theirs.post("/graphql", json=request, headers=headers)
                assert _answer(a) == _answer(b), f"{who}: {document}"
            metrics = (await ours.get("/metrics")).text
    finally:
        planned.stop()
        executor.stop()
    assert 'backorders_plan_completions_total{outcome="planned"' in metrics


async def _open(server: ServerProcess, protocol: str, token: str | None,
                document: Document, frames: list[Any]) -> Any:
    """A socket with the subscription started; None when the connection was refused."""
    start, _ = PROTOCOLS[protocol]
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    ws = await websockets.connect(ws_url(server), subprotocols=[protocol],  # type: ignore[list-item]
                                  open_timeout=30, ping_interval=None)
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    ack = json.loads(await ws.recv())
    frames.append(_scrub(ack))
    if ack["type"] != "connection_ack":
        await ws.close()
        return None
    await ws.send(json.dumps({"id": "1", "type": start, "payload": {
        "query": document.query, "variables": document.variables}}))
    return ws


async def _pair(servers: tuple[ServerProcess, ServerProcess], protocol: str,
                token: str | None, document: Document, change: Any) -> list[list[Any]]:
    """The frames of one subscription on each server: what comes first, then what comes
    after one change that both are open for."""
    frames: list[list[Any]] = [[], []]
    sockets = [await _open(server, protocol, token, document, out)
               for server, out in zip(servers, frames, strict=True)]
    try:
        for step in range(2):
            if step == 1:
                await change()
            for ws, out in zip(sockets, frames, strict=True):
                if ws is None or (out and isinstance(out[-1], dict)
                                  and out[-1].get("type") in ("error", "complete")):
                    continue
                out.append(_scrub(await _frame(ws, 2 if step == 0 else 6)))
    finally:
        for ws in sockets:
            if ws is not None:
                await ws.close()
    return frames


async def _frame(ws: Any, seconds: float) -> Any:
    while True:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        except TimeoutError:
            return "nothing"
        except websockets.ConnectionClosed as closed:
            return f"closed {closed.code}"
        if message.get("type") not in ("ka", "ping", "pong"):
            return message


async def test_generated_subscriptions_answer_alike_over_both_protocols(
        pg_database: str, tmp_path: Path) -> None:
    planned, executor = _servers(pg_database, tmp_path)
    try:
        tokens, ids = await _given(planned)
        # Two fixed documents first, so every run sees events after the first message.
        cases = [Document('subscription { productStockChanged(sku: "KB") { sku version '
                          "stock { onHand available } availability } }", {}),
                 Document("subscription($f: Boolean = true) { myBackOrders { id version "
                          "...B @include(if: $f) } } fragment B on BackOrder { status "
                          "queuePosition unitPrice { amount } }", {}),
                 *_generated("subscription", ids, max(EXAMPLES // 4, 6))]
        async with httpx.AsyncClient(base_url=planned.url, timeout=30) as client:

            async def change() -> None:
                await graphql(client, ADJUST, tokens["staff"])

            events = 0

            for n, document in enumerate(cases):
                protocol = list(PROTOCOLS)[n % 2]
                who = ["anonymous", "alice", "staff"][n % 3]
                ours, theirs = await _pair((planned, executor), protocol, tokens.get(who),
                                           document, change)
                assert ours == theirs, f"{protocol} {who}: {document}"
                events += sum(1 for f in ours[2:] if isinstance(f, dict)
                              and f.get("type") in ("next", "data") and "errors" not in f.get(
                                  "payload", {}))
    finally:
        planned.stop()
        executor.stop()
    assert events, "no generated subscription saw an event after its first message"

