"""Clear answers to a client's mistakes over HTTP, against ``backorders serve``: bad input is
a typed INVALID_INPUT (on PostgreSQL, which refuses NUL bytes), a garbage token is "invalid
token", and none of it is an ERROR in the log. X-Forwarded-For is believed only from the
proxies ``BACKORDERS_TRUSTED_PROXIES`` lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.domain.identity import Role
from tests.e2e.server import ServerProcess

BAD_INPUT = [
    ('{ product(sku: "a\\u0000") { sku } }', "sku", None),
    ('{ restocks(sku: "' + "R" * 92 + '") { id } }', "sku", None),
    ('{ backOrder(id: "\u00b3") { id } }', "id", Role.STAFF),
    ('{ products(after: "' + "A" * 300 + '") { totalCount } }', "after", None),
]


def _post(server: ServerProcess, query: str, token: str | None = None,
          **headers: str) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{server.url}/graphql", json={"query": query}, headers=headers,
                      timeout=30)


def test_bad_input_is_invalid_input_and_no_error_in_the_log(pg_server: ServerProcess) -> None:
    for query, field, role in BAD_INPUT:
        token = pg_server.token("staff-1", role) if role else None
        response = _post(pg_server, query, token)
        assert response.status_code == 200, response.text
        [error] = response.json()["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "INVALID_INPUT", field), query

    log = pg_server.log()
    assert "Traceback" not in log and " ERROR " not in log, log
    assert log.count("client error at ") == len(BAD_INPUT)


def test_a_garbage_token_is_an_invalid_token(pg_server: ServerProcess) -> None:
    for garbage in ("garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.xx"):
        response = _post(pg_server, "{ viewer { id } }", garbage)
        assert response.status_code == 401
        [error] = response.json()["errors"]
        assert (error["message"], error["extensions"]["code"]) == (
            "invalid token", "UNAUTHENTICATED")


@pytest.fixture
def limited(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """Two anonymous requests a minute per address; the trusted proxies as parametrized."""
    proxies = {"BACKORDERS_TRUSTED_PROXIES": request.param} if request.param else {}
    server = ServerProcess(f"sqlite://{tmp_path / 'xff.sqlite3'}", tmp_path / "server.log",
                           BACKORDERS_RATE_LIMIT_ANONYMOUS="2/minute", **proxies)
    yield server
    server.stop()


def _statuses(server: ServerProcess, addresses: list[str]) -> list[int]:
    return [_post(server, "{ __typename }", **{"X-Forwarded-For": a}).status_code
            for a in addresses]


@pytest.mark.parametrize("limited", [None], indirect=True, ids=["no trusted proxies"])
def test_a_client_cannot_choose_its_address_by_default(limited: ServerProcess) -> None:
    assert _statuses(limited, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [
        200, 200, 429]


@pytest.mark.parametrize("limited", ["127.0.0.1"], indirect=True, ids=["loopback trusted"])
def test_a_trusted_proxy_names_the_client(limited: ServerProcess) -> None:
    assert _statuses(limited, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [
        200, 200, 200]
    assert _statuses(limited, ["198.51.100.7"] * 3) == [200, 200, 429]
