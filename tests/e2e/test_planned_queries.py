"""Over HTTP, a planned query answers as the executor does: same body, same media type,
same errors, and it is counted and logged like any other operation."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql

PRODUCT = ('query($s: String!) { product(sku: $s) { __typename id sku name availability '
           'price { amount currencyCode } stock { onHand allocated available backordered } '
           'policy { backorderCap releaseDate } } }')
PAGE = ('{ backOrders(first: 100) { edges { cursor node { id status queuePosition placedAt '
        'estimatedShipDate unitPrice { amount } customer { id } product { sku name } '
        'order { id amountCharged { amount currencyCode } } } } pageInfo { hasNextPage '
        'endCursor } } }')
ADD = ('mutation($i: CreateProductInput!) { createProduct(input: $i) { __typename } }')
ORDER = ('mutation($k: String!) { placeOrder(input: {lines: [{sku: "KB", quantity: 1}], '
         'idempotencyKey: $k}) { __typename } }')


def _requests(staff: str, alice: str) -> list[tuple[dict[str, object], dict[str, str]]]:
    json_type = {"Content-Type": "application/json"}
    return [
        ({"query": PRODUCT, "variables": {"s": "KB"}}, {}),
        ({"query": PRODUCT, "variables": {"s": "NONE"}}, {}),
        ({"query": PAGE}, {"Authorization": f"Bearer {staff}"}),
        ({"query": PAGE}, {"Authorization": f"Bearer {alice}"}),
        ({"query": PAGE}, {}),  # anonymous: the executor's error
        ({"query": PRODUCT, "variables": {"s": 5}}, {}),  # a bad variable
        ({"query": PRODUCT, "variables": {"s": "KB"}},
         {"Accept": "application/graphql-response+json"}),
        ({"query": PRODUCT, "variables": {"s": "KB"}, "operationName": "Nope"}, json_type),
        ({"query": PRODUCT, "variables": {"s": "KB"}, "extensions": "nope"}, {}),
    ]


def _body(response: httpx.Response) -> object:
    if "json" in response.headers["content-type"]:
        return response.json()
    return response.text


async def test_planned_queries_answer_as_the_executor(pg_database: str, tmp_path: Path
                                                      ) -> None:
    fast = ServerProcess(pg_database, tmp_path / "fast.log")
    slow = ServerProcess(pg_database, tmp_path / "slow.log", "--no-migrate",
                         BACKORDERS_FAST_QUERIES="false")
    try:
        staff, alice = fast.token("staff", Role.STAFF), fast.token("alice")
        async with httpx.AsyncClient(base_url=fast.url, timeout=30) as client:
            await graphql(client, ADD, staff, i={"sku": "KB", "name": "Keyboard",
                                                  "price": "49.50", "onHand": 1})
            for n in range(3):
                await graphql(client, ORDER, alice, k=f"e2e-{n}")
        async with (httpx.AsyncClient(base_url=fast.url, timeout=30) as ours,
                    httpx.AsyncClient(base_url=slow.url, timeout=30) as theirs):
            for body, headers in _requests(staff, alice):
                a = await ours.post("/graphql", json=body, headers=headers)
                b = await theirs.post("/graphql", json=body, headers=headers)
                assert (a.status_code, a.headers["content-type"]) == (
                    b.status_code, b.headers["content-type"]), body
                assert _body(a) == _body(b), body
                assert a.headers["x-request-id"]
            page = (await ours.post("/graphql", json={"query": PAGE},
                                    headers={"Authorization": f"Bearer {staff}"})).json()
            assert len(page["data"]["backOrders"]["edges"]) == 2
            metrics = (await ours.get("/metrics")).text
    finally:
        fast.stop()
        slow.stop()
    counted = {
        (s.labels["operation"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
        if s.name == "backorders_graphql_requests_total"
    }
    assert counted[("query:product", "ok")] == 3  # KB, NONE, and KB as graphql-response
    assert counted[("query:backOrders", "ok")] == 3
    assert counted[("query:backOrders", "error")] == 1
    assert "query:backOrders" in fast.log()


PLACE = ('mutation($k: String!, $sku: String!) { placeOrder(input: {lines: [{sku: $sku, '
         'quantity: 1}], idempotencyKey: $k}) { __typename ... on PlaceOrderPayload { '
         'replayed order { id } } ... on Error { code } } }')


async def test_a_planned_order_is_rate_limited_once_per_request(pg_database: str,
                                                                tmp_path: Path) -> None:
    server = ServerProcess(pg_database, tmp_path / "server.log",
                           BACKORDERS_RATE_LIMIT_ORDERS="3/minute")
    try:
        staff, alice = server.token("staff", Role.STAFF), server.token("alice")
        auth = {"Authorization": f"Bearer {alice}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await graphql(client, ADD, staff, i={"sku": "KB", "name": "Keyboard",
                                                  "price": "49.50"})
            await graphql(client, ADD, staff, i={"sku": "LAMP", "name": "Lamp",
                                                  "price": "20.00",
                                                  "policy": {"allowBackorders": False}})

            async def place(key: str, sku: str) -> httpx.Response:
                return await client.post("/graphql", headers=auth, json={
                    "query": PLACE, "variables": {"k": key, "sku": sku}})

            failed = await place("r-1", "LAMP")  # planned, fails, the executor words it
            assert failed.json()["data"]["placeOrder"] == {
                "__typename": "OutOfStockError", "code": "OUT_OF_STOCK"}
            for key in ("r-2", "r-3"):
                placed = (await place(key, "KB")).json()["data"]["placeOrder"]
                assert placed["__typename"] == "PlaceOrderPayload", placed
                assert placed["replayed"] is False
            limited = await place("r-4", "KB")
            assert limited.status_code == 429
            assert limited.json()["data"]["placeOrder"]["code"] == "RATE_LIMITED"
            page = await graphql(client, "{ backOrders { edges { node { id } } } }", alice)
            assert len(page["backOrders"]["edges"]) == 2  # nothing placed twice
    finally:
        server.stop()
