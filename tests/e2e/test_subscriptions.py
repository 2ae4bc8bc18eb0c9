"""Live updates over both websocket protocols, with a real GraphQL client library (gql)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql, ws_url

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
IN_A_WEEK = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00"}) {
  __typename } }"""
PLACE = """mutation($key: String!) {
  placeOrder(input: {lines: [{sku: "KB", quantity: 3}], idempotencyKey: $key}) {
    ... on PlaceOrderPayload { order { backOrders { id } } } } }"""
SCHEDULE = """mutation($date: Date!) {
  scheduleRestock(input: {sku: "KB", quantity: 10, expectedDate: $date}) {
    ... on RestockPayload { restock { id } } } }"""
RECEIVE = """mutation($id: ID!, $q: Int) { receiveRestock(id: $id, quantity: $q) { __typename } }"""

BACK_ORDER_UPDATED = """subscription($id: ID!) {
  backOrderUpdated(id: $id) { id version status allocatedQuantity queuePosition
                              estimatedShipDate product { sku } } }"""
MY_BACK_ORDERS = "subscription { myBackOrders { id version customer { id } } }"
PRODUCT_STOCK = """subscription { productStockChanged(sku: "KB") {
  sku version availability stock { onHand backordered } } }"""
QUEUE = 'subscription { backOrderQueue(sku: "KB") { id version queuePosition } }'


class Stream:
    """A subscription read in the background, so that waiting with a timeout cancels nothing."""

    def __init__(self, session: Any, query: str, variables: dict[str, Any] | None) -> None:
        request = gql(query)
        request.variable_values = variables
        self._items: asyncio.Queue[Any] = asyncio.Queue()
        self._task = asyncio.create_task(self._pump(session.subscribe(request)))

    async def _pump(self, stream: Any) -> None:
        try:
            async for item in stream:
                await self._items.put(item)
        except Exception as exc:  # handed to the reader
            await self._items.put(exc)

    async def take(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for _ in range(count):
            item = await asyncio.wait_for(self._items.get(), timeout)
            if isinstance(item, Exception):
                raise item
            items.append(item)
        return items

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


@asynccontextmanager
async def subscriber(server: ServerProcess, token: str | None,
                     protocol: str = "graphql-transport-ws") -> AsyncIterator[Any]:
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    transport = WebsocketsTransport(url=ws_url(server), init_payload=payload,
                                    subprotocols=[protocol], connect_timeout=10,
                                    close_timeout=1)
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        streams: list[Stream] = []

        def subscribe(query: str, variables: dict[str, Any] | None = None) -> Stream:
            streams.append(Stream(session, query, variables))
            return streams[-1]

        try:
            yield subscribe
        finally:
            for stream in streams:
                await stream.close()


async def _setup(server: ServerProcess, client: httpx.AsyncClient) -> tuple[str, str, str]:
    staff = server.token("staff-1", Role.STAFF)
    alice = server.token("alice")
    await graphql(client, CREATE, staff)
    placed = await graphql(client, PLACE, alice, key="sub-1")
    return staff, alice, placed["placeOrder"]["order"]["backOrders"][0]["id"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscriber_sees_the_current_state_then_every_change_in_order(
    server: ServerProcess, client: httpx.AsyncClient, protocol: str
) -> None:
    staff, alice, bo_id = await _setup(server, client)
    async with subscriber(server, alice, protocol) as session:
        stream = session(BACK_ORDER_UPDATED, {"id": bo_id})
        [first] = await stream.take(1)
        assert (first["backOrderUpdated"]["version"], first["backOrderUpdated"]["status"]) == (
            1, "WAITING")
        restock = (await graphql(client, SCHEDULE, staff, date=IN_A_WEEK))[
            "scheduleRestock"]["restock"]["id"]
        await graphql(client, RECEIVE, staff, id=restock, q=1)
        await graphql(client, RECEIVE, staff, id=restock, q=None)
        updates = [m["backOrderUpdated"] for m in await stream.take(3)]
        assert [u["version"] for u in updates] == [2, 3, 4]
        assert [u["status"] for u in updates] == ["WAITING", "PARTIALLY_ALLOCATED", "ALLOCATED"]
        assert updates[-1]["allocatedQuantity"] == 3
        assert updates[-1]["product"] == {"sku": "KB"}


async def test_a_rolled_back_change_publishes_nothing(
    server: ServerProcess, client: httpx.AsyncClient
) -> None:
    staff, _, _ = await _setup(server, client)
    async with subscriber(server, None) as session:
        stream = session(PRODUCT_STOCK)
        [first] = await stream.take(1)
        version = first["productStockChanged"]["version"]
        refused = await graphql(client, """mutation { adjustStock(sku: "KB", delta: -5) {
          __typename } }""", staff)
        assert refused["adjustStock"]["__typename"] == "InsufficientStockError"
        with pytest.raises(TimeoutError):
            await stream.take(1, timeout=1.5)
        await graphql(client, 'mutation { adjustStock(sku: "KB", delta: 1) { __typename } }',
                      staff)
        [after] = await stream.take(1)
        assert after["productStockChanged"]["version"] == version + 1


async def _outcome(server: ServerProcess, token: str | None, query: str,
                   variables: dict[str, Any] | None = None) -> str:
    async with subscriber(server, token) as session:
        stream = session(query, variables)
        try:
            await stream.take(1, timeout=10)
        except TransportQueryError as exc:
            return f"error: {exc}"
        return "data"


async def test_who_may_subscribe_to_what(server: ServerProcess, client: httpx.AsyncClient) -> None:
    staff, alice, bo_id = await _setup(server, client)
    bob = server.token("bob")
    expected = {
        ("anonymous", "backOrderUpdated"): "error", ("alice", "backOrderUpdated"): "data",
        ("bob", "backOrderUpdated"): "error", ("staff", "backOrderUpdated"): "data",
        ("anonymous", "myBackOrders"): "error", ("alice", "myBackOrders"): "data",
        ("anonymous", "productStockChanged"): "data", ("bob", "productStockChanged"): "data",
        ("anonymous", "backOrderQueue"): "error", ("alice", "backOrderQueue"): "error",
        ("staff", "backOrderQueue"): "data",
    }
    tokens = {"anonymous": None, "alice": alice, "bob": bob, "staff": staff}
    queries = {
        "backOrderUpdated": (BACK_ORDER_UPDATED, {"id": bo_id}),
        "myBackOrders": (MY_BACK_ORDERS, None),
        "productStockChanged": (PRODUCT_STOCK, None),
        "backOrderQueue": (QUEUE, None),
    }
    for (who, name), outcome in expected.items():
        query, variables = queries[name]
        got = await _outcome(server, tokens[who], query, variables)
        assert got.startswith(outcome), (who, name, got)


async def test_bob_hears_only_of_his_own_back_orders(
    server: ServerProcess, client: httpx.AsyncClient
) -> None:
    _, alice, _ = await _setup(server, client)
    bob = server.token("bob")
    async with subscriber(server, bob) as session:
        stream = session(MY_BACK_ORDERS)
        await graphql(client, PLACE, alice, key="sub-2")
        await graphql(client, PLACE, bob, key="sub-3")
        [mine] = await stream.take(1)
        assert mine["myBackOrders"]["customer"] == {"id": "bob"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_bad_token_in_connection_init_is_refused(
    server: ServerProcess, protocol: str
) -> None:
    with pytest.raises(Exception) as refused:
        async with subscriber(server, "not-a-token", protocol) as session:
            await session(PRODUCT_STOCK).take(1, timeout=5)
    assert not isinstance(refused.value, TimeoutError)


async def test_one_socket_cannot_open_unbounded_subscriptions(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'm.sqlite3'}", tmp_path / "m.log",
                           BACKORDERS_MAX_SUBSCRIPTIONS_PER_CONNECTION="2")
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await graphql(client, CREATE, server.token("staff-1", Role.STAFF))
        async with subscriber(server, None) as session:
            first, second = session(PRODUCT_STOCK), session(PRODUCT_STOCK)
            await first.take(1)
            await second.take(1)
            with pytest.raises(TransportQueryError, match="Subscription limit reached"):
                await session(PRODUCT_STOCK).take(1)
    finally:
        server.stop()
