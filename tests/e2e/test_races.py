"""Concurrency on PostgreSQL over HTTP: no oversell, no double allocation, no double order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql

IN_A_MONTH = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
PRODUCT = """mutation($sku: String!, $onHand: Int!, $cap: Int) {
  createProduct(input: {sku: $sku, name: "Hot item", price: "10.00", onHand: $onHand,
                        policy: {backorderCap: $cap}}) { __typename }
}"""
PLACE = """mutation($sku: String!, $key: String!) {
  placeOrder(input: {lines: [{sku: $sku, quantity: 1}], idempotencyKey: $key}) {
    __typename
    ... on PlaceOrderPayload { order { id lines { allocatedQuantity }
                                       backOrders { id queuePosition } } }
  }
}"""
SCHEDULE = """mutation($sku: String!, $date: Date!) {
  scheduleRestock(input: {sku: $sku, quantity: 10, expectedDate: $date}) {
    ... on RestockPayload { restock { id } }
  }
}"""
RECEIVE = """mutation($id: ID!) { receiveRestock(id: $id) { __typename } }"""
QUEUE = """query($sku: String!, $after: String) {
  backOrders(sku: $sku, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id status allocatedQuantity quantity queuePosition
                   customer { id } } }
  }
  product(sku: $sku) { stock { onHand allocated backordered } }
}"""


async def _all_back_orders(client: httpx.AsyncClient, staff: str, sku: str) -> tuple[
        list[dict[str, Any]], dict[str, int]]:
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        data = await graphql(client, QUEUE, staff, sku=sku, after=after)
        rows += [e["node"] for e in data["backOrders"]["edges"]]
        if not data["backOrders"]["pageInfo"]["hasNextPage"]:
            return rows, data["product"]["stock"]
        after = data["backOrders"]["pageInfo"]["endCursor"]


async def test_200_buyers_for_50_units_and_a_cap_of_100(
    pg_server: ServerProcess, pg_client: httpx.AsyncClient
) -> None:
    staff = pg_server.token("staff", Role.STAFF)
    await graphql(pg_client, PRODUCT, staff, sku="HOT", onHand=50, cap=100)

    async def buy(n: int) -> dict[str, Any]:
        token = pg_server.token(f"buyer-{n}")
        result: dict[str, Any] = (await graphql(pg_client, PLACE, token, sku="HOT",
                                                key=f"k-{n}"))["placeOrder"]
        return result

    results = await asyncio.gather(*(buy(n) for n in range(200)))
    kinds = [r["__typename"] for r in results]
    assert kinds.count("OutOfStockError") == 50
    placed = [r["order"] for r in results if r["__typename"] == "PlaceOrderPayload"]
    in_stock = [o for o in placed if o["lines"][0]["allocatedQuantity"] == 1]
    back_ordered = [o for o in placed if o["backOrders"]]
    assert (len(in_stock), len(back_ordered)) == (50, 100)
    rows, stock = await _all_back_orders(pg_client, staff, "HOT")
    assert sorted(r["queuePosition"] for r in rows) == list(range(1, 101))
    assert stock == {"onHand": 50, "allocated": 50, "backordered": 100}


async def test_receiving_while_orders_arrive_never_gives_a_unit_twice(
    pg_server: ServerProcess, pg_client: httpx.AsyncClient
) -> None:
    staff = pg_server.token("staff", Role.STAFF)
    await graphql(pg_client, PRODUCT, staff, sku="HOT", onHand=0, cap=None)
    restock_ids = [
        (await graphql(pg_client, SCHEDULE, staff, sku="HOT", date=IN_A_MONTH))[
            "scheduleRestock"]["restock"]["id"]
        for _ in range(3)
    ]
    for n in range(40):  # the line, before any stock arrives
        await graphql(pg_client, PLACE, pg_server.token(f"early-{n}"), sku="HOT", key="k")

    async def late(n: int) -> None:
        await graphql(pg_client, PLACE, pg_server.token(f"late-{n}"), sku="HOT", key="k")

    async def receive(restock_id: str) -> None:
        await graphql(pg_client, RECEIVE, staff, id=restock_id)

    await asyncio.gather(*(late(n) for n in range(20)), *(receive(r) for r in restock_ids))

    rows, stock = await _all_back_orders(pg_client, staff, "HOT")
    assert stock == {"onHand": 30, "allocated": 30, "backordered": 30}
    allocated = {r["customer"]["id"] for r in rows if r["allocatedQuantity"] == 1}
    assert allocated == {f"early-{n}" for n in range(30)}
    assert sum(r["allocatedQuantity"] for r in rows) == 30


async def test_the_same_key_racing_places_one_order(
    pg_server: ServerProcess, pg_client: httpx.AsyncClient
) -> None:
    staff = pg_server.token("staff", Role.STAFF)
    await graphql(pg_client, PRODUCT, staff, sku="HOT", onHand=0, cap=None)
    token = pg_server.token("retrying-app")
    results = await asyncio.gather(*(
        graphql(pg_client, PLACE, token, sku="HOT", key="same-key") for _ in range(10)))
    order_ids = {r["placeOrder"]["order"]["id"] for r in results}
    assert len(order_ids) == 1
    rows, _ = await _all_back_orders(pg_client, staff, "HOT")
    assert len(rows) == 1
