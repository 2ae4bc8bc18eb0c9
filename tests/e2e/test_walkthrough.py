"""The core flow over HTTP against ``backorders serve``, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql

CREATE = """mutation {
  createProduct(input: {sku: "KB-ERGO", name: "Ergonomic keyboard", price: "149.00",
                        onHand: 1, policy: {leadTimeDays: 21}}) {
    ... on ProductPayload { product { sku availability } }
  }
}"""
PLACE = """mutation($key: String!) {
  placeOrder(input: {lines: [{sku: "KB-ERGO", quantity: 3}], idempotencyKey: $key}) {
    __typename
    ... on PlaceOrderPayload {
      order { id backOrders { id queuePosition estimatedShipDate status } }
    }
  }
}"""
SCHEDULE = """mutation($date: Date!) {
  scheduleRestock(input: {sku: "KB-ERGO", quantity: 10, expectedDate: $date}) {
    ... on RestockPayload { restock { id } }
  }
}"""
RECEIVE = """mutation($id: ID!) {
  receiveRestock(id: $id) { ... on RestockPayload { restock { status } } }
}"""
BACK_ORDER = """query($id: ID!) {
  backOrder(id: $id) { status allocatedQuantity queuePosition estimatedShipDate
                       history { kind } }
}"""


async def test_order_restock_allocate_over_http(
    server: ServerProcess, client: httpx.AsyncClient
) -> None:
    staff = server.token("staff-1", Role.STAFF)
    alice = server.token("alice")
    today = datetime.now(UTC).date()

    created = await graphql(client, CREATE, staff)
    assert created["createProduct"]["product"] == {"sku": "KB-ERGO", "availability": "LOW_STOCK"}

    placed = (await graphql(client, PLACE, alice, key="walkthrough-1"))["placeOrder"]
    [bo] = placed["order"]["backOrders"]
    assert (bo["status"], bo["queuePosition"]) == ("WAITING", 1)
    assert bo["estimatedShipDate"] == (today + timedelta(days=21)).isoformat()

    restock = (await graphql(client, SCHEDULE, staff,
                             date=(today + timedelta(days=7)).isoformat()))
    restock_id = restock["scheduleRestock"]["restock"]["id"]
    dated = (await graphql(client, BACK_ORDER, alice, id=bo["id"]))["backOrder"]
    assert dated["estimatedShipDate"] == (today + timedelta(days=8)).isoformat()

    received = await graphql(client, RECEIVE, staff, id=restock_id)
    assert received["receiveRestock"]["restock"]["status"] == "RECEIVED"
    done = (await graphql(client, BACK_ORDER, alice, id=bo["id"]))["backOrder"]
    assert (done["status"], done["allocatedQuantity"], done["queuePosition"]) == (
        "ALLOCATED", 2, None)
    assert [h["kind"] for h in done["history"]][:2] == ["PLACED", "DATE_CHANGED"]


async def test_a_bad_token_is_refused_with_401(server: ServerProcess,
                                               client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { id } }"},
                                 headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_products_are_public(server: ServerProcess, client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ products { totalCount } }"})
    assert response.json() == {"data": {"products": {"totalCount": 0}}}


def test_the_server_listens_where_host_and_port_say(server: ServerProcess) -> None:
    assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").json() == {
        "status": "ok", "pid": server.process.pid}
