"""Real clients from the npm registry (tests/clients, pinned by its package-lock.json)
against ``backorders serve``: Apollo Client 4 with its persisted-queries link (a miss, the
retry with the query, a hit by GET) and a multipart subscription over its HTTP link, and
``graphql-sse`` for a subscription over SSE, both woken by a change made through the API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.domain.identity import Role
from tests.e2e.server import ServerProcess

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "10.00",
  onHand: 1}) { __typename } }"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("clients")
    server = ServerProcess(f"sqlite://{tmp / 'c.sqlite3'}", tmp / "server.log")
    yield server
    server.stop()


def _node_modules() -> None:
    if (CLIENTS / "node_modules" / "@apollo" / "client").exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the client tests (Node.js 20 or newer)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--legacy-peer-deps"], cwd=CLIENTS,
                   check=True, capture_output=True, timeout=300)


def test_apollo_client_and_graphql_sse_work_over_http(live: ServerProcess,
                                                      tmp_path: Path) -> None:
    _node_modules()
    possible_types = tmp_path / "possible-types.json"
    exported = subprocess.run(
        [sys.executable, "-m", "api.cli", "export-schema", "--output",
         str(tmp_path / "schema.graphql"), "--possible-types", str(possible_types)],
        capture_output=True, text=True, timeout=60, check=False)
    assert exported.returncode == 0, exported.stderr
    staff = live.token("ops", Role.STAFF)
    created = httpx.post(f"{live.url}/graphql", json={"query": CREATE},
                         headers={"Authorization": f"Bearer {staff}"})
    assert created.json()["data"]["createProduct"]["__typename"] == "ProductPayload"
    run = subprocess.run(["node", "clients.mjs", f"{live.url}/graphql", staff,
                          str(possible_types)], cwd=CLIENTS,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    results = {r["name"]: r["value"] for r in map(json.loads, run.stdout.splitlines())}
    apq = results["apq"]
    expected = {"product": {"__typename": "Product", "sku": "KB",
                            "stock": {"__typename": "Stock", "onHand": 1}}}
    assert apq["first"] == expected and apq["second"] == expected, apq
    # The hash alone by GET (not found), the query with it by POST, then the hash by GET.
    assert apq["methods"] == ["GET", "POST", "GET"], apq
    # With the exported possibleTypes the cache matches `... on Error` on a concrete error;
    # without them Apollo leaves the fragment's fields out (the README says so).
    unions = results["errorUnion"]
    assert unions["withPossibleTypes"]["__typename"] == "NotFoundError", unions
    assert unions["withPossibleTypes"]["code"] == "NOT_FOUND", unions
    assert unions["withPossibleTypes"]["message"], unions
    assert "code" not in unions["without"], unions
    assert results["multipart"] == [1, 2]
    assert results["sse"] == [2, 3]
    assert "Traceback" not in live.log()
