"""GraphiQL's page and files through the whole app (gateway, router, view): content types,
caching by a versioned path, the page's Content-Security-Policy, and no anonymous rate limit
on the files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api import graphiql
from api.app import create_app
from api.settings import Settings

HTML = {"Accept": "text/html"}


def client_for(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(Settings(environment="development",
                                   rate_limit_anonymous="3/minute")) as http:
        yield http


async def test_the_page_loads_only_its_own_files_under_a_strict_policy(
        client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert f"style-src 'self' '{graphiql.DIALOG_STYLE}';" in policy  # nothing else inline
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert page.headers["cache-control"] == "no-cache"
    assert f"{graphiql.PREFIX}/{graphiql.files().version}/graphiql.min.js" in page.text
    assert "<style" not in page.text and "<script>" not in page.text  # nothing inline


@pytest.mark.parametrize(("name", "kind"), [
    ("graphiql.min.js", "text/javascript; charset=utf-8"),
    ("react.production.min.js", "text/javascript; charset=utf-8"),
    ("react-dom.production.min.js", "text/javascript; charset=utf-8"),
    ("start.js", "text/javascript; charset=utf-8"),
    ("graphiql.min.css", "text/css; charset=utf-8"),
    ("page.css", "text/css; charset=utf-8"),
])
async def test_each_file_has_its_type_and_is_cached_for_a_year(
        client: httpx.AsyncClient, name: str, kind: str) -> None:
    answer = await client.get(f"{graphiql.PREFIX}/{graphiql.files().version}/{name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == kind
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.content == graphiql.files().bodies[name]


@pytest.mark.parametrize("path", ["0000000000000000/graphiql.min.js", "{v}/manifest.json",
                                  "{v}/../__init__.py", "{v}/nothing.js"])
async def test_another_version_or_file_is_not_found_and_not_cached(
        client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(f"{graphiql.PREFIX}/{path.format(v=graphiql.files().version)}")
    assert answer.status_code == 404
    assert answer.headers.get("cache-control", "no-store") == "no-store"


async def test_the_files_do_not_count_against_the_anonymous_limit(
        client: httpx.AsyncClient) -> None:
    base = f"{graphiql.PREFIX}/{graphiql.files().version}"
    for _ in range(3):
        for name in graphiql.files().bodies:
            assert (await client.get(f"{base}/{name}")).status_code == 200
    pages = [(await client.get("/graphql", headers=HTML)).status_code for _ in range(4)]
    assert pages == [200, 200, 200, 429]  # the page itself is a GET /graphql: it does


async def test_production_serves_neither_page_nor_files() -> None:
    async with client_for(Settings(environment="production", jwt_secret="p" * 40)) as http:
        page = await http.get("/graphql", headers=HTML)
        asset = await http.get(f"{graphiql.PREFIX}/{graphiql.files().version}/graphiql.min.js")
    assert (page.status_code, asset.status_code) == (404, 404)
