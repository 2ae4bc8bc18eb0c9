"""A websocket connection's context, as the view makes it: lazy loaders, and a subscriber that
falls too far behind is closed with 4429 (through the hub's lighter queue)."""

from __future__ import annotations

from typing import Any

from api.graphql.context import Context
from api.graphql.loaders import LazyLoaders
from api.graphql.subscriptions import OVERFLOW_CLOSE_CODE
from api.realtime.hub import Hub
from api.settings import Settings
from tests.inprocess import schema
from tests.integration import steps
from tests.integration.conftest import ALICE, STAFF, Run

ORDER = """query($id: ID!) { order(id: $id) { id customer { id } lines { quantity }
  backOrders { id history { kind version } } } }"""
STOCK = 'subscription { productStockChanged(sku: "KB") { sku version } }'
STOCK_SLOW = 'subscription { productStockChanged(sku: "KB") { ... on Product { sku } } }'


class ClosingSocket:
    """Records how the subscription closed its websocket."""

    def __init__(self) -> None:
        self.closed: list[tuple[int, str]] = []

    async def close(self, code: int, reason: str = "") -> None:
        self.closed.append((code, reason))


async def test_queries_on_a_socket_context_load_what_they_need(gql: Run) -> None:
    await steps.product(gql, "KB")
    placed = await steps.order(gql, ALICE, "KB", 2)
    order_id = placed["order"]["id"]
    settings = Settings()
    on_socket = await schema.execute(ORDER, {"id": order_id},
                                     Context(ALICE, settings, loaders=LazyLoaders()))
    over_http = await schema.execute(ORDER, {"id": order_id}, Context(ALICE, settings))
    assert on_socket.errors is None, on_socket.errors
    assert on_socket.data == over_http.data
    assert on_socket.data is not None
    assert on_socket.data["order"]["lines"] == [{"quantity": 2}]
    assert on_socket.data["order"]["backOrders"][0]["history"]


async def _overflow(query: str) -> tuple[Any, Any, ClosingSocket]:
    hub = Hub(queue_size=8)
    socket = ClosingSocket()
    context = Context(STAFF, Settings(), loaders=LazyLoaders(), hub=hub, websocket=socket)
    stream = await schema.stream(query, None, context)
    first = await anext(stream)
    for _ in range(9):  # one more than fits, while nobody reads
        hub.resync_all()
    after = await anext(stream)
    await stream.aclose()
    assert hub.subscriptions == 0  # the subscription let go of the hub
    return first, after, socket


async def test_a_subscriber_too_far_behind_is_closed_with_4429(gql: Run) -> None:
    await steps.product(gql, "KB")
    for query in (STOCK, STOCK_SLOW):  # the fast path and the executor
        first, after, socket = await _overflow(query)
        assert first.errors is None, first.errors
        assert first.data["productStockChanged"]["sku"] == "KB"
        assert after.errors and after.errors[0].extensions["code"] == "TOO_FAR_BEHIND"
        assert [code for code, _ in socket.closed] == [OVERFLOW_CLOSE_CODE]
