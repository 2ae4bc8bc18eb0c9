"""The gateway (api/gateway.py): request ids, body limit, anonymous rate limit, bearer token
and CORS in one layer, in front of an endpoint that shows what reached it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api import logs
from api.auth import mint
from api.domain.identity import Role
from api.gateway import Gateway
from api.ratelimit import RateLimits
from api.settings import Settings

SETTINGS = Settings(jwt_secret="g" * 40, max_body_bytes=1_000, rate_limit_anonymous="2/minute",
                    cors_origins=["https://shop.example"])


class Endpoint:
    """Reads the whole body and answers with what it saw."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        actor = scope["state"].get("actor")
        content = json.dumps({"endpoint": self.name, "bytes": len(body),
                              "subject": actor.subject if actor else None}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": content})


@pytest.fixture
def endpoints() -> tuple[Endpoint, Endpoint]:
    return Endpoint("router"), Endpoint("graphql")


@pytest.fixture
async def client(endpoints: tuple[Endpoint, Endpoint]) -> AsyncIterator[httpx.AsyncClient]:
    router, graphql = endpoints
    gateway = Gateway(router, graphql, SETTINGS, RateLimits(SETTINGS))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway),
                                 base_url="http://test") as http:
        yield http


def token(subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(SETTINGS, subject, Role.CUSTOMER, timedelta(1))}"}


async def test_a_post_to_graphql_goes_to_the_endpoint_and_the_rest_to_the_router(
        client: httpx.AsyncClient) -> None:
    posted = await client.post("/graphql", content=b"{}", headers=token("alice"))
    assert posted.json() == {"endpoint": "graphql", "bytes": 2, "subject": "alice"}
    got = await client.get("/graphql", headers=token("alice"))
    assert got.json()["endpoint"] == "router"
    assert (await client.get("/healthz")).json()["endpoint"] == "router"


async def test_request_ids_are_kept_when_well_formed_else_made(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "req-42"})
    assert kept.headers["x-request-id"] == "req-42"
    made = await client.get("/healthz", headers={"X-Request-ID": "no spaces; allowed"})
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["x-request-id"] != (await client.get("/healthz")).headers["x-request-id"]


async def test_a_body_over_the_limit_is_refused_before_the_endpoint_reads_it(
        client: httpx.AsyncClient, endpoints: tuple[Endpoint, Endpoint]) -> None:
    declared = await client.post("/graphql", content=b"x" * 1_001, headers=token("alice"))
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"
    assert endpoints[1].calls == 0

    async def chunks(count: int) -> AsyncIterator[bytes]:
        for _ in range(count):
            yield b"x" * 300

    chunked = await client.post("/graphql", content=chunks(4), headers=token("alice"))
    assert chunked.status_code == 413
    fits = await client.post("/graphql", content=chunks(3), headers=token("alice"))
    assert fits.json()["bytes"] == 900


async def test_a_declared_length_next_to_chunked_encoding_is_not_trusted(
        endpoints: tuple[Endpoint, Endpoint]) -> None:
    """A server that reads such a body as chunked (h11 does) gets it counted all the same."""
    gateway = Gateway(endpoints[0], endpoints[1], SETTINGS, RateLimits(SETTINGS))
    chunks = [b"x" * 600, b"x" * 600]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        body = chunks.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await gateway({"type": "http", "method": "POST", "path": "/graphql", "headers": [
        (b"content-length", b"10"), (b"transfer-encoding", b"chunked"),
        *[(k.lower().encode(), v.encode()) for k, v in token("alice").items()]],
        "client": ("10.0.0.9", 1), "query_string": b""}, receive, send)
    assert sent[0]["status"] == 413


async def test_requests_without_a_token_are_limited_per_address(
        client: httpx.AsyncClient) -> None:
    answers = [await client.post("/graphql", content=b"{}", headers=headers)
               for headers in ({}, {"Authorization": ""}, {})]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    # a token is counted per customer elsewhere, not here; other paths are not limited
    assert (await client.post("/graphql", content=b"{}", headers=token("bob"))).status_code == 200
    assert (await client.get("/healthz")).status_code == 200


async def test_a_bad_token_is_401_and_a_browser_may_read_why(client: httpx.AsyncClient) -> None:
    forged = mint(Settings(jwt_secret="f" * 40), "mallory", Role.STAFF, timedelta(1))
    for header in (f"Bearer {forged}", "Basic abc", "Bearer "):
        refused = await client.post("/graphql", content=b"{}", headers={
            "Authorization": header, "Origin": "https://shop.example"})
        assert refused.status_code == 401, header
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert refused.headers["access-control-allow-origin"] == "https://shop.example"
    other = await client.post("/graphql", content=b"{}", headers={
        **token("alice"), "Origin": "https://evil.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield io.StringIO()
    root.handlers[:], level = saved
    root.setLevel(level)
    logs.request_log.handler = None


FIELDS: dict[str, Any] = {
    "request_id": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "method": "POST",
    "path": "/graphql/alice@example.com", "status": 200, "duration_ms": 1.5,
    "operation": None, "role": "customer"}


@pytest.mark.parametrize("environment", ["development", "production"])
def test_the_request_line_written_directly_is_the_line_logging_writes(
        configured: io.StringIO, environment: str) -> None:
    logs.configure(Settings(environment=environment, jwt_secret="p" * 40))
    logs.request_log.handler.setStream(configured)  # type: ignore[union-attr]
    logs.request_log("POST", FIELDS["path"], 200, dict(FIELDS))
    logs.REQUESTS.addHandler(logs.request_log.handler)  # type: ignore[arg-type]
    logs.REQUESTS.propagate = False
    try:  # a second handler in place: the line goes through logging
        logs.request_log("POST", FIELDS["path"], 200, dict(FIELDS))
    finally:
        logs.REQUESTS.handlers.clear()
        logs.REQUESTS.propagate = True
    direct, through_logging = configured.getvalue().splitlines()
    assert "alice@" not in direct and "eyJ" not in direct and "a***@example.com" in direct
    (direct_at, direct_record), (logged_at, logged_record) = map(
        _parsed_line, (direct, through_logging))
    assert direct_record == logged_record
    assert abs((logged_at - direct_at).total_seconds()) < 5  # both stamps read as times
    if environment == "production":
        assert direct_record["path"] == "/graphql/a***@example.com"


def _parsed_line(line: str) -> tuple[datetime, dict[str, Any]]:
    """A request line as its time and the rest: a JSON line's fields but ``time``, or a
    readable line's text after the stamp (the stamps of two lines differ by the clock)."""
    if line.startswith("{"):
        record = json.loads(line)
        at = record.pop("time")
    else:
        day, clock, rest = line.split(" ", 2)
        at, record = f"{day} {clock}", {"text": rest}
    return datetime.strptime(at, "%Y-%m-%d %H:%M:%S,%f"), record


def test_a_changed_logging_setup_gets_the_line_through_logging(
        configured: io.StringIO) -> None:
    logs.configure(Settings(jwt_secret="p" * 40))
    handler = logs.request_log.handler
    assert handler is not None
    handler.setStream(configured)
    seen: list[logging.LogRecord] = []

    def spy(record: logging.LogRecord) -> bool:
        seen.append(record)
        return True

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    parent, extra = logging.getLogger("backorders"), Spy()
    for change, undo in (
            (lambda: handler.addFilter(spy), lambda: handler.removeFilter(spy)),
            (lambda: parent.addHandler(extra), lambda: parent.removeHandler(extra))):
        change()
        try:
            logs.request_log("GET", "/healthz", 200, dict(FIELDS))
        finally:
            undo()
    assert len(seen) == 2  # each went through logging
    assert len(configured.getvalue().splitlines()) == 2
