"""Safe on the internet: limits, hostile input, HTTP hygiene, and production defaults."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.domain.identity import Role
from tests.e2e.server import SECRET, ServerProcess, backorders_command, graphql

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with small limits, so that each one is easy to cross."""
    tmp = tmp_path_factory.mktemp("tight")
    server = ServerProcess(
        f"sqlite://{tmp / 'tight.sqlite3'}", tmp / "server.log",
        BACKORDERS_MAX_DEPTH="5", BACKORDERS_MAX_ALIASES="3", BACKORDERS_MAX_TOKENS="400",
        BACKORDERS_MAX_COST="300", BACKORDERS_MAX_BODY_BYTES="20000",
        BACKORDERS_RATE_LIMIT_ORDERS="3/minute", BACKORDERS_RATE_LIMIT_ANONYMOUS="1000/minute",
        BACKORDERS_CORS_ORIGINS='["https://shop.example"]')
    yield server
    server.stop()


def post(server: ServerProcess, query: str, token: str | None = None,
         **headers: str) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers)


def codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code", "") or e["message"]
            for e in response.json().get("errors", [])]


def test_too_deep_is_refused_before_execution(tight: ServerProcess) -> None:
    query = "{ products { edges { node { restocks { product { restocks { id } } } } } } }"
    response = post(tight, query)
    assert response.json()["data"] is None
    assert "exceeds maximum operation depth" in response.json()["errors"][0]["message"]


def test_too_many_aliases_are_refused(tight: ServerProcess) -> None:
    query = "{ " + " ".join(f"a{n}: viewer {{ id }}" for n in range(5)) + " }"
    assert "aliases" in post(tight, query).json()["errors"][0]["message"]


def test_too_many_tokens_are_refused(tight: ServerProcess) -> None:
    query = "{ " + " ".join(["__typename"] * 500) + " }"
    assert "token" in post(tight, query).json()["errors"][0]["message"].lower()


def test_a_costly_query_is_refused_with_its_cost(tight: ServerProcess) -> None:
    query = "{ products(first: 100) { edges { node { sku restocks { id } } } } }"
    [error] = post(tight, query).json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > 300


def test_a_large_body_is_refused_with_413(tight: ServerProcess) -> None:
    response = post(tight, "{ viewer { id } }" + " " * 25_000)
    assert response.status_code == 413


def test_mutations_are_not_allowed_over_get(tight: ServerProcess) -> None:
    staff = tight.token("staff", Role.STAFF)
    response = httpx.get(f"{tight.url}/graphql", params={
        "query": 'mutation { adjustStock(sku: "X", delta: 1) { __typename } }'},
        headers={"Authorization": f"Bearer {staff}"})
    assert response.status_code in (400, 405)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_simple_cross_site_content_types_are_refused(tight: ServerProcess,
                                                     content_type: str) -> None:
    response = httpx.post(f"{tight.url}/graphql", content='{"query": "{ viewer { id } }"}',
                          headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500


def test_cors_allows_only_the_configured_origins(tight: ServerProcess) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(f"{tight.url}/graphql", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
    allowed = preflight("https://shop.example")
    assert allowed.headers.get("access-control-allow-origin") == "https://shop.example"
    refused = preflight("https://evil.example")
    assert refused.headers.get("access-control-allow-origin") is None


@pytest.mark.parametrize("body", [
    {"query": "{ viewer { "},                                      # does not parse
    {"query": "{ nope }"},                                          # does not validate
    {"query": "query($n: Int!) { products(first: $n) { totalCount } }", "variables": {}},
])
def test_request_errors_are_400_without_data_for_graphql_response_json(
    tight: ServerProcess, body: dict[str, object]
) -> None:
    response = httpx.post(f"{tight.url}/graphql", json=body,
                          headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json() and response.json()["errors"]


def test_a_good_query_is_200_with_the_media_type_asked_for(tight: ServerProcess) -> None:
    response = httpx.post(f"{tight.url}/graphql", json={"query": "{ products { totalCount } }"},
                          headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    legacy = httpx.post(f"{tight.url}/graphql", json={"query": "{ nope }"})
    assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"


async def test_placing_orders_too_often_is_429_with_retry_after(tight: ServerProcess) -> None:
    staff = tight.token("staff", Role.STAFF)
    async with httpx.AsyncClient(base_url=tight.url) as client:
        await graphql(client, """mutation { createProduct(input: {sku: "RL", name: "Rl",
          price: "1.00"}) { __typename } }""", staff)
    token = tight.token("eager")
    place = """mutation($k: String!) { placeOrder(input: {lines: [{sku: "RL", quantity: 1}],
      idempotencyKey: $k}) { __typename ... on RateLimitedError { retryAfterSeconds } } }"""
    answers = [httpx.post(f"{tight.url}/graphql", json={"query": place, "variables": {"k": k}},
                          headers={"Authorization": f"Bearer {token}"}) for k in "abcd"]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert answers[-1].json()["data"]["placeOrder"]["__typename"] == "RateLimitedError"


def test_anonymous_requests_are_limited_per_address(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'a.sqlite3'}", tmp_path / "a.log",
                           BACKORDERS_RATE_LIMIT_ANONYMOUS="5/minute")
    try:
        answers = [post(server, "{ products { totalCount } }") for _ in range(6)]
        signed_in = post(server, "{ viewer { id } }", server.token("alice"))
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert signed_in.status_code == 200


def test_production_hides_introspection_and_graphiql(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'p.sqlite3'}", tmp_path / "p.log",
                           BACKORDERS_ENVIRONMENT="production")
    try:
        introspection = post(server, "{ __schema { types { name } } }")
        page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
        ordinary = post(server, "{ products { totalCount } }")
    finally:
        server.stop()
    assert introspection.json().get("data") is None
    assert page.status_code == 404
    assert ordinary.json() == {"data": {"products": {"totalCount": 0}}}


def test_production_refuses_to_start_with_the_development_secret(tmp_path: Path) -> None:
    run = subprocess.run([*backorders_command(), "serve"], capture_output=True, text=True,
                         timeout=60, check=False, env={
                             "PATH": "/usr/bin:/bin", "BACKORDERS_ENVIRONMENT": "production",
                             "BACKORDERS_DATABASE_URL": f"sqlite://{tmp_path / 'x.sqlite3'}"})
    assert run.returncode != 0
    assert "development secret" in run.stderr
    assert SECRET not in run.stderr


@pytest.mark.parametrize("body", [b"null", b"1", b'"x"', b"[]", b"[" * 2000 + b"]" * 2000,
                                  b"{", b'{"query": 5}'],
                         ids=["null", "number", "string", "list", "deep", "broken", "query5"])
def test_a_body_that_is_not_a_request_is_a_400_in_json_and_the_connection_lives(
        tight: ServerProcess, body: bytes) -> None:
    with httpx.Client(base_url=tight.url) as client:  # one keep-alive connection
        response = client.post("/graphql", content=body,
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/json")
        assert codes(response) == ["BAD_REQUEST"]
        after = client.post("/graphql", json={"query": "{ viewer { id } }"})
        assert after.status_code == 200 and after.json() == {"data": {"viewer": None}}


def test_a_subscription_over_http_says_it_needs_a_websocket(tight: ServerProcess) -> None:
    response = post(tight, 'subscription { productStockChanged(sku: "KB") { sku } }')
    assert response.status_code == 200 and codes(response) == ["SUBSCRIPTION_NEEDS_WEBSOCKET"]
    assert "websocket" in response.json()["errors"][0]["message"]
    strict = post(tight, 'subscription { productStockChanged(sku: "KB") { sku } }',
                  Accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 400 and "data" not in strict.json()
    log = tight.log()
    assert "Traceback" not in log
