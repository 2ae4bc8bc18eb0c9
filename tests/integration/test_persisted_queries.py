"""Automatic persisted queries (Apollo's protocol) over HTTP, in process, on both databases:
a hash alone is looked up, a query with its hash is checked and stored, GET and POST, the
limits apply to the stored document, and the store is shared through Redis."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from tests.integration import steps
from tests.integration.conftest import Run
from tests.redisserver import RedisServer

QUERY = 'query Stock { product(sku: "KB") { sku stock { onHand } } }'
DEEP = "{ " + "product(sku: \"KB\") { " * 1 + "backOrders(first: 1) { edges { node { " * 6 \
    + "id" + " } } }" * 6 + " } }"
SETTINGS = dict(environment="development", rate_limit_anonymous="100000/minute")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


def client_of(db: str, **settings: Any) -> httpx.AsyncClient:
    app = create_app(Settings(database_url=db, **{**SETTINGS, **settings}))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def test_a_hash_alone_is_not_found_then_the_query_is_stored_and_runs(
        gql: Run, db: str) -> None:
    await steps.product(gql, "KB", on_hand=3)
    async with client_of(db) as client:
        miss = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        assert miss.status_code == 200
        assert miss.json()["errors"] == [{"message": "PersistedQueryNotFound",
                                          "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
        assert "no-cache" in miss.headers["cache-control"]
        sent = await client.post("/graphql", json={"query": QUERY,
                                                   "extensions": persisted(QUERY)})
        expected = {"data": {"product": {"sku": "KB", "stock": {"onHand": 3}}}}
        assert sent.status_code == 200 and sent.json() == expected
        hit = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        assert hit.json() == expected
        by_get = await client.get("/graphql", params={
            "extensions": json.dumps(persisted(QUERY)), "operationName": "Stock"},
            headers={"Accept": "*/*"})
        assert by_get.status_code == 200 and by_get.json() == expected


async def test_a_query_whose_hash_is_not_its_own_is_refused_and_not_stored(
        db: str) -> None:
    async with client_of(db) as client:
        wrong = await client.post("/graphql", json={
            "query": "{ viewer { id } }", "extensions": persisted(QUERY)})
        assert wrong.status_code == 400 and codes(wrong) == ["PERSISTED_QUERY_HASH_MISMATCH"]
        after = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        assert codes(after) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize("extension", [
    {"persistedQuery": 1}, {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
    {"persistedQuery": {"version": 1, "sha256Hash": "nothex"}}],
    ids=["not-object", "version", "not-hash"])
async def test_a_malformed_persisted_query_is_a_400_in_json(
        db: str, extension: dict[str, Any]) -> None:
    async with client_of(db) as client:
        response = await client.post("/graphql", json={"extensions": extension})
        assert response.status_code == 400 and codes(response) == ["BAD_REQUEST"]


async def test_the_limits_apply_to_a_stored_document_and_an_invalid_one_is_not_kept(
        db: str) -> None:
    async with client_of(db, max_depth=4) as client:
        sent = await client.post("/graphql", json={"query": DEEP,
                                                   "extensions": persisted(DEEP)})
        assert sent.status_code == 200 and sent.json()["errors"]
        assert "depth" in sent.json()["errors"][0]["message"]
        again = await client.post("/graphql", json={"extensions": persisted(DEEP)})
        assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_mutation_by_hash_over_get_is_refused(db: str) -> None:
    mutation = 'mutation { adjustStock(sku: "KB", delta: 1) { __typename } }'
    async with client_of(db) as client:
        await client.post("/graphql", json={"query": mutation,
                                            "extensions": persisted(mutation)})
        by_get = await client.get("/graphql", params={
            "extensions": json.dumps(persisted(mutation))})
        assert by_get.status_code in (400, 405), by_get.text


async def test_with_persisted_queries_off_the_answer_is_not_supported(
        db: str) -> None:
    async with client_of(db, persisted_queries=False) as client:
        response = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        assert response.status_code == 200
        assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert codes(response) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


async def test_the_cache_is_bounded_least_recently_used_first(db: str) -> None:
    queries = [f'{{ product(sku: "K{n}") {{ sku }} }}' for n in range(3)]
    async with client_of(db, persisted_query_cache=2) as client:
        for query in queries:
            await client.post("/graphql", json={"query": query,
                                                "extensions": persisted(query)})
        first = await client.post("/graphql", json={"extensions": persisted(queries[0])})
        last = await client.post("/graphql", json={"extensions": persisted(queries[2])})
        assert codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert last.json() == {"data": {"product": None}}


async def test_two_instances_share_stored_documents_through_redis(
        db: str, redis_server: RedisServer) -> None:
    one = client_of(db, persisted_query_storage=redis_server.url)
    two = client_of(db, persisted_query_storage=redis_server.url)
    async with one, two:
        await one.post("/graphql", json={"query": QUERY, "extensions": persisted(QUERY)})
        hit = await two.post("/graphql", json={"extensions": persisted(QUERY)})
        assert hit.json() == {"data": {"product": None}}
