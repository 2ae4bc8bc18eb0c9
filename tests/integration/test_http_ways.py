"""A POST takes the lean way (``GraphQLView._post`` and ``BackOrdersSchema.execute``) only
when it can answer as Strawberry's own way does: generated requests (bodies of every JSON
shape, content types, Accept headers, documents valid and not, variables, operation names,
tokens) are sent to the app as it is built and to one with ``fast_queries`` off, on SQLite
and PostgreSQL; status, media type, headers that matter and body must be the same."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.auth import mint
from api.domain.identity import Role
from api.settings import Settings
from tests.integration import steps
from tests.integration.conftest import ALICE, STAFF, Run

HOUR = timedelta(hours=1)
SETTINGS = dict(environment="development", rate_limit_anonymous="100000/minute")
QUERIES = [
    '{ product(sku: "KB") { sku name stock { onHand available } } }',
    'query($s: String!) { product(sku: $s) { sku price { amount currencyCode } } }',
    'query($s: String! = "KB") { product(sku: $s) { sku } }',
    'query A { viewer { id } } query B { product(sku: "KB") { sku } }',
    '{ backOrders(first: 2) { edges { node { id status product { sku } } } } }',
    '{ product(sku: "KB") { nope } }',
    '{ product(sku: ',
    'subscription { productStockChanged(sku: "KB") { sku } }',
    'mutation { adjustStock(input: {sku: "NONE", delta: 1}) { __typename } }',
    '',
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=2),
    max_leaves=4)
BODY = st.fixed_dictionaries({}, optional={
    "query": st.sampled_from(QUERIES) | JSON_VALUES,
    "variables": st.sampled_from([None, {}, {"s": "KB"}, {"s": 1}, {"s": None}, [], "x"])
    | JSON_VALUES,
    "operationName": st.sampled_from([None, "A", "B", "C", 1, {}, ["A"]]),
    "extensions": st.sampled_from([None, {}, {"x": 1}, 3]),
    "n": st.text(max_size=3),
})
PLAIN = st.fixed_dictionaries({"query": st.sampled_from(QUERIES[:5])}, optional={
    "variables": st.sampled_from([None, {}, {"s": "KB"}, {"s": 2}]),
    "operationName": st.sampled_from([None, "A", "B"]),
}).map(orjson.dumps)
"""Bodies a client sends every day: most of them take the lean way."""
RAW = st.one_of(
    PLAIN, PLAIN, PLAIN,
    BODY.map(orjson.dumps),
    JSON_VALUES.map(orjson.dumps),
    st.sampled_from([b"", b"{", b"nul", b"[{}]", b'{"query": "{ viewer { id } }"}x',
                     b'{"query": NaN}', b'{"query": "\\ud800"}', b"\xff\xfe"]),
)
CONTENT_TYPES = st.just("application/json") | st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/JSON",
    "application/json;charset=utf-8", "text/plain", "application/graphql", None,
    "multipart/form-data; boundary=x"])
ACCEPTS = st.sampled_from([
    None, "application/json", "application/graphql-response+json",
    "application/graphql-response+json, application/json;q=0.9", "*/*", "text/html",
    "multipart/mixed", "text/event-stream"])
WHO = st.sampled_from(["anonymous", "alice", "staff", "bad token"])


def _answer(response: httpx.Response) -> tuple[Any, ...]:
    text = re.sub(r"reference [0-9a-f]{12}", "reference x", response.text)
    text = re.sub(r'"errorId":"[0-9a-f]{12}"', '"errorId":"x"', text)
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    headers = {k: v for k, v in response.headers.items()
               if k in ("content-type", "retry-after", "allow")}
    return response.status_code, headers, body


async def test_a_post_is_answered_alike_either_way(gql: Run, database_url: str) -> None:
    await steps.product(gql, "KB", on_hand=1)
    await steps.order(gql, ALICE, "KB", 2)
    apps = [create_app(Settings(database_url=database_url, **SETTINGS)),
            create_app(Settings(database_url=database_url, fast_queries=False, **SETTINGS))]
    secret = apps[0].state.settings
    tokens = {"anonymous": None, "bad token": "Bearer x.y.z",
              "alice": "Bearer " + mint(secret, ALICE.subject, Role.CUSTOMER, HOUR),
              "staff": "Bearer " + mint(secret, STAFF.subject, Role.STAFF, HOUR)}
    view = apps[0].state.graphql_view
    ready_body, taken = view._ready_body, []

    def spied(request: Any, body: bytes) -> Any:
        data = ready_body(request, body)
        taken.append(data is not None)
        return data

    view._ready_body = spied
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") for app in apps]
    cases: list[tuple[bytes, str | None, str | None, str]] = []

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(RAW, CONTENT_TYPES, ACCEPTS, WHO)
    def collect(body: bytes, content_type: str | None, accept: str | None, who: str) -> None:
        cases.append((body, content_type, accept, who))

    collect()
    # The draw decides how many take the lean way; these twelve always do, so the check
    # below does not depend on it.
    cases += [(orjson.dumps({"query": QUERIES[n]}), "application/json", None, who)
              for n in (0, 1, 2, 4) for who in ("anonymous", "alice", "staff")]
    try:
        for body, content_type, accept, who in cases:
            if accept == "text/event-stream" and b"subscription" in body:
                accept = None  # an SSE subscription streams for ever (test_http_subscriptions)
            headers = {k: v for k, v in (("content-type", content_type), ("accept", accept),
                                         ("authorization", tokens[who])) if v is not None}
            lean, strawberry = [_answer(await client.post("/graphql", content=body,
                                                          headers=headers))
                                for client in clients]
            assert lean == strawberry, (body, content_type, accept, who)
        assert sum(taken) >= 10 and not all(taken)  # both ways were taken
    finally:
        for client in clients:
            await client.aclose()
