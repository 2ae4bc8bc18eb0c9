"""Subscriptions over HTTP against ``backorders serve``, read with httpx's streaming: GraphQL
over SSE and Apollo's multipart, an event caused through the API, and the edges (a bad
token, a token that expires mid-stream, a limit)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api.auth import mint
from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql

SSE = {"Accept": "text/event-stream"}
MULTIPART = {"Accept": 'multipart/mixed;subscriptionSpec="1.0",application/json'}
STOCK = 'subscription { productStockChanged(sku: "KB") { sku stock { onHand } } }'
CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00",
  onHand: 1}) { __typename } }"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("httpsubs")
    server = ServerProcess(f"sqlite://{tmp / 'h.sqlite3'}", tmp / "server.log",
                           BACKORDERS_MAX_DEPTH="4")
    yield server
    server.stop()


@pytest.fixture
async def client(live: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        if (await graphql(http, '{ product(sku: "KB") { sku } }'))["product"] is None:
            await graphql(http, CREATE, live.token("ops", Role.STAFF))
        yield http


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event is not None:
            yield event, line[6:]
            event = None


async def test_an_sse_subscription_gets_the_current_row_then_a_change_made_through_the_api(
        client: httpx.AsyncClient, live: ServerProcess) -> None:
    staff = live.token("ops", Role.STAFF)
    async with client.stream("POST", "/graphql", json={"query": STOCK}, headers=SSE) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = sse_events(stream)
        kind, data = await anext(events)
        first = json.loads(data)["data"]["productStockChanged"]["stock"]["onHand"]
        await graphql(client, 'mutation { adjustStock(sku: "KB", delta: 2) { __typename } }',
                      staff)
        kind, data = await asyncio.wait_for(anext(events), 10)
        assert kind == "next"
        assert json.loads(data)["data"]["productStockChanged"]["stock"]["onHand"] == first + 2


async def test_a_multipart_subscription_sends_payload_parts(client: httpx.AsyncClient) -> None:
    async with client.stream("POST", "/graphql", json={"query": STOCK},
                             headers=MULTIPART) as stream:
        assert stream.status_code == 200
        assert "subscriptionSpec=1.0" in stream.headers["content-type"]
        seen = ""
        async for chunk in stream.aiter_text():
            seen += chunk
            if '"payload"' in seen:
                break
        assert '"productStockChanged"' in seen


async def test_a_bad_token_is_a_401_before_any_stream(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": STOCK},
                                 headers={**SSE, "Authorization": "Bearer x.y.z"})
    assert response.status_code == 401


async def test_a_stream_ends_with_unauthenticated_when_its_token_expires(
        client: httpx.AsyncClient, live: ServerProcess) -> None:
    token = mint(live.settings, "alice", Role.CUSTOMER, timedelta(seconds=2))
    async with client.stream("POST", "/graphql", json={"query": STOCK},
                             headers={**SSE, "Authorization": f"Bearer {token}"}) as stream:
        events = [item async for item in sse_events(stream)]
    assert events[-1][0] == "complete"
    last = json.loads(events[-2][1])
    assert last["errors"][0]["message"] == "token expired"
    assert last["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_depth_limit_applies_to_a_streamed_subscription(
        client: httpx.AsyncClient) -> None:
    deep = ('subscription { productStockChanged(sku: "KB") { backOrders(first: 1) { edges '
            '{ node { product { sku } } } } } }')
    async with client.stream("POST", "/graphql", json={"query": deep}, headers=SSE) as stream:
        body = (await stream.aread()).decode()
    assert "depth" in body


async def test_a_subscription_without_a_streaming_accept_is_still_refused(
        client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": STOCK})
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert codes == ["SUBSCRIPTION_NEEDS_WEBSOCKET"]
    assert "text/event-stream" in response.json()["errors"][0]["message"]


async def test_a_stream_ends_with_unauthenticated_when_its_token_is_revoked(
        client: httpx.AsyncClient, live: ServerProcess) -> None:
    token = mint(live.settings, "carol", Role.CUSTOMER, timedelta(hours=1))
    revoke = 'mutation { revokeTokens(subject: "carol") { __typename } }'
    async with client.stream("POST", "/graphql", json={"query": STOCK},
                             headers={**SSE, "Authorization": f"Bearer {token}"}) as stream:
        events = sse_events(stream)
        assert (await anext(events))[0] == "next"
        await graphql(client, revoke, live.token("ops", Role.STAFF))
        rest = [item async for item in events]
    assert rest[-1][0] == "complete"
    assert json.loads(rest[-2][1])["errors"][0]["message"] == "token revoked"


async def test_resume_with_since_version_replays_what_came_after_it(
        client: httpx.AsyncClient, live: ServerProcess) -> None:
    alice = live.token("alice")
    placed = await graphql(client, """mutation($key: String!) {
      placeOrder(input: {lines: [{sku: "KB", quantity: 1000}], idempotencyKey: $key}) {
        ... on PlaceOrderPayload { order { backOrders { id } } } } }""", alice, key="h-resume")
    back_order = placed["placeOrder"]["order"]["backOrders"][0]["id"]
    query = ("subscription($id: ID!) { backOrderUpdated(id: $id, sinceVersion: 0) "
             "{ id version } }")
    async with client.stream("POST", "/graphql", json={
            "query": query, "variables": {"id": back_order}},
            headers={**SSE, "Authorization": f"Bearer {alice}"}) as stream:
        kind, data = await asyncio.wait_for(anext(sse_events(stream)), 10)
    assert kind == "next"
    assert json.loads(data)["data"]["backOrderUpdated"]["version"] == 1


async def test_resume_over_sse_replays_every_later_version_in_order_then_goes_live(
        client: httpx.AsyncClient, live: ServerProcess) -> None:
    staff, bob = live.token("ops", Role.STAFF), live.token("bob")
    await graphql(client, """mutation { createProduct(input: {sku: "KR", name: "Kettle",
      price: "20.00", onHand: 0}) { __typename } }""", staff)
    placed = await graphql(client, """mutation($key: String!) {
      placeOrder(input: {lines: [{sku: "KR", quantity: 5}], idempotencyKey: $key}) {
        ... on PlaceOrderPayload { order { backOrders { id } } } } }""", bob, key="h-replay")
    back_order = placed["placeOrder"]["order"]["backOrders"][0]["id"]
    restock = 'mutation { adjustStock(sku: "KR", delta: 1) { __typename } }'
    for _ in range(3):  # each unit allocated is a new version: 2, 3, 4
        await graphql(client, restock, staff)
    query = ("subscription($id: ID!, $since: Int) { backOrderUpdated(id: $id, "
             "sinceVersion: $since) { version allocatedQuantity } }")
    async with client.stream("POST", "/graphql", json={
            "query": query, "variables": {"id": back_order, "since": 2}},
            headers={**SSE, "Authorization": f"Bearer {bob}"}) as stream:
        events = sse_events(stream)
        seen = []
        for _ in range(2):
            kind, data = await asyncio.wait_for(anext(events), 10)
            assert kind == "next"
            seen.append(json.loads(data)["data"]["backOrderUpdated"])
        await graphql(client, restock, staff)
        kind, data = await asyncio.wait_for(anext(events), 10)
        seen.append(json.loads(data)["data"]["backOrderUpdated"])
    assert [event["version"] for event in seen] == [3, 4, 5]
    assert [event["allocatedQuantity"] for event in seen] == [2, 3, 4]


@pytest.mark.parametrize("accept", [SSE, MULTIPART], ids=["sse", "multipart"])
async def test_one_client_holds_a_bounded_number_of_http_subscriptions(
        tmp_path: Path, accept: dict[str, str]) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'l.sqlite3'}", tmp_path / "l.log",
                           BACKORDERS_MAX_SUBSCRIPTIONS_PER_CONNECTION="2")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            await graphql(http, CREATE, server.token("ops", Role.STAFF))
            dave = {**accept, "Authorization": f"Bearer {server.token('dave')}"}

            async def opened(headers: dict[str, str]) -> tuple[contextlib.AsyncExitStack,
                                                                httpx.Response]:
                stack = contextlib.AsyncExitStack()
                response = await stack.enter_async_context(http.stream(
                    "POST", "/graphql", json={"query": STOCK}, headers=headers))
                return stack, response

            first, second = await opened(dave), await opened(dave)
            assert first[1].status_code == second[1].status_code == 200
            over = await http.post("/graphql", json={"query": STOCK}, headers=dave)
            assert over.status_code == 429
            error = over.json()["errors"][0]
            assert error["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": 2}
            # Another client is not held back by dave's streams, nor is a plain query.
            erin = {**accept, "Authorization": f"Bearer {server.token('erin')}"}
            other = await opened(erin)
            assert other[1].status_code == 200
            query = await graphql(http, '{ product(sku: "KB") { sku } }',
                                  server.token("dave"))
            assert query["product"]["sku"] == "KB"
            # A stream that ends gives its place back.
            await first[0].aclose()
            for _ in range(50):
                again = await opened(dave)
                if again[1].status_code == 200:
                    break
                await again[0].aclose()
                await asyncio.sleep(0.1)
            assert again[1].status_code == 200
            for stack, _ in (second, other, again):
                await stack.aclose()
    finally:
        server.stop()
