"""Webhooks from ``backorders serve`` to a real HTTP receiver that is down for part of the run:
every event arrives, once per webhook-id, in order per back order, each signature verified
by the standardwebhooks library; a tampered body fails verification."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, free_port, graphql

SECRET = "whsec_" + base64.b64encode(b"e2e-webhook-secret-32-bytes-long").decode()
REGISTER = """mutation($url: String!, $secret: String!) {
  createWebhookEndpoint(input: {url: $url, events: [BACK_ORDER_UPDATED, PRODUCT_UPDATED],
                                secret: $secret}) {
    __typename ... on WebhookEndpointPayload { endpoint { id } } ... on Error { message } } }"""
PRODUCT = """mutation($sku: String!, $onHand: Int!) { createProduct(input: {sku: $sku,
  name: "Thing", price: "5.00", onHand: $onHand}) { __typename } }"""
PLACE = """mutation($key: String!) { placeOrder(input: {lines: [{sku: "QUEUED", quantity: 1}],
  idempotencyKey: $key}) { __typename ... on PlaceOrderPayload { order { backOrders { id } } } }
}"""
CANCEL = """mutation($id: ID!) { cancelBackOrder(id: $id) { __typename } }"""
ADJUST = """mutation { adjustStock(sku: "STOCKED", delta: 1) { __typename } }"""
OPEN = """{ open: webhookDeliveries(status: [PENDING, SENDING]) { totalCount }
  dead: webhookDeliveries(status: [DEAD]) { totalCount }
  all: webhookDeliveries { totalCount } }"""
VERSIONS = """{ backOrders(first: 100) { edges { node { id version } } } }"""
ATTEMPTS = """query($after: String) { webhookDeliveries(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { attempts } } } }"""
PRODUCT_VERSIONS = """{ queued: product(sku: "QUEUED") { version }
  stocked: product(sku: "STOCKED") { version } }"""


class Receiver:
    """An HTTP server in a thread that records every request; ``stop`` and ``start`` take it
    down and bring it back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with received._lock:
                    received.requests.append((body, dict(self.headers.items())))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def snapshot(self) -> list[tuple[bytes, dict[str, str]]]:
        with self._lock:
            return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def hook_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'e2e.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")
    process = ServerProcess(url, tmp_path / "server.log",
                            BACKORDERS_WEBHOOK_BACKOFF_SECONDS="0.2",
                            BACKORDERS_WEBHOOK_BACKOFF_CAP_SECONDS="1",
                            BACKORDERS_WEBHOOK_MAX_ATTEMPTS="100",
                            BACKORDERS_WEBHOOK_TIMEOUT_SECONDS="2")
    yield process
    process.stop()


async def _wait_delivered(client: httpx.AsyncClient, staff: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        counts = await graphql(client, OPEN, staff)
        if counts["open"]["totalCount"] == 0:
            return counts
        await asyncio.sleep(0.3)
    raise AssertionError(f"deliveries still open: {counts}")


async def _retried(client: httpx.AsyncClient, staff: str) -> int:
    """How many deliveries took more than one attempt."""
    retried, after = 0, None
    while True:
        page = (await graphql(client, ATTEMPTS, staff, after=after))["webhookDeliveries"]
        retried += sum(1 for e in page["edges"] if e["node"]["attempts"] > 1)
        if not page["pageInfo"]["hasNextPage"]:
            return retried
        after = page["pageInfo"]["endCursor"]


async def _changes(client: httpx.AsyncClient, staff: str, customers: list[str],
                   receiver: Receiver) -> None:
    """200 changes; the receiver is down from the 50th to the 150th."""
    await graphql(client, PRODUCT, staff, sku="QUEUED", onHand=0)
    await graphql(client, PRODUCT, staff, sku="STOCKED", onHand=0)
    back_orders: list[str] = []
    for n in range(198):
        if n == 50:
            receiver.stop()
        if n == 150:
            receiver.start()
        if n < 120:
            placed = await graphql(client, PLACE, customers[n % len(customers)],
                                   key=f"hook-{n}")
            back_orders.append(placed["placeOrder"]["order"]["backOrders"][0]["id"])
        elif n < 160:
            await graphql(client, CANCEL, staff, id=back_orders.pop())  # the tail: no moves
        else:
            await graphql(client, ADJUST, staff)


async def test_every_change_reaches_the_receiver_once_in_order_and_signed(
        hook_server: ServerProcess, receiver: Receiver) -> None:
    staff = hook_server.token("staff-1", Role.STAFF)
    customers = [hook_server.token(f"c{i}") for i in range(4)]
    async with httpx.AsyncClient(base_url=hook_server.url, timeout=30) as client:
        made = await graphql(client, REGISTER, staff, url=receiver.url, secret=SECRET)
        assert made["createWebhookEndpoint"]["__typename"] == "WebhookEndpointPayload", made
        await _changes(client, staff, customers, receiver)
        counts = await _wait_delivered(client, staff)
        versions = await graphql(client, VERSIONS, staff)
        products = await graphql(client, PRODUCT_VERSIONS, staff)
        retried = await _retried(client, staff)
    assert counts["dead"]["totalCount"] == 0
    assert retried > 50  # the receiver was down for a while: those were tried again

    verifier = Webhook(SECRET)
    first_seen: dict[str, dict[str, Any]] = {}
    for body, headers in receiver.snapshot():
        payload = verifier.verify(body, headers)  # raises on a bad signature
        first_seen.setdefault(headers["webhook-id"], payload)
    assert len(first_seen) == counts["all"]["totalCount"]  # each delivery once, none lost

    seen: dict[tuple[str, str], list[int]] = {}
    for payload in first_seen.values():
        subject = str(payload["data"].get("sku") or payload["data"]["id"])
        seen.setdefault((payload["type"], subject), []).append(payload["data"]["version"])
    for (kind, _), got in seen.items():  # in order, no gap, no repeat
        first = 1 if kind == "back_order.updated" else 2  # a new product's version 1 is silent
        assert got == list(range(first, first + len(got))), got
    for edge in versions["backOrders"]["edges"]:
        node = edge["node"]
        assert len(seen[("back_order.updated", node["id"])]) == node["version"]
    assert len(seen[("product.updated", "STOCKED")]) == products["stocked"]["version"] - 1
    assert len(seen[("product.updated", "QUEUED")]) == products["queued"]["version"] - 1

    body, headers = receiver.snapshot()[-1]
    tampered = json.loads(body)
    tampered["data"]["version"] += 1
    with pytest.raises(WebhookVerificationError):
        verifier.verify(json.dumps(tampered), headers)
