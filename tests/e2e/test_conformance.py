"""Suites nobody on this project wrote: the GraphQL-over-HTTP audit (graphql-http, from
the npm registry) and schemathesis, against a live ``backorders serve``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.domain.identity import Role
from tests.e2e.server import ServerProcess

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("conformance")
    server = ServerProcess(f"sqlite://{tmp / 'c.sqlite3'}", tmp / "server.log", "--demo",
                           BACKORDERS_RATE_LIMIT_ANONYMOUS="100000/minute")
    yield server
    server.stop()


def _node_modules() -> None:
    if (CONFORMANCE / "node_modules" / "graphql-http").exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the graphql-http audit (Node.js 20 or newer)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONFORMANCE, check=True,
                   capture_output=True, timeout=300)


def test_the_graphql_over_http_audit_passes_every_must_and_should(live: ServerProcess) -> None:
    _node_modules()
    run = subprocess.run(["node", "audit.mjs", f"{live.url}/graphql"], cwd=CONFORMANCE,
                         capture_output=True, text=True, timeout=300, check=True)
    results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(results) > 20
    failed = [f"{r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert failed == []


@pytest.mark.parametrize("role", [None, Role.CUSTOMER, Role.STAFF],
                         ids=["anonymous", "customer", "staff"])
def test_schemathesis_finds_no_server_error_and_nothing_unmasked(
    live: ServerProcess, tmp_path: Path, role: Role | None
) -> None:
    """As each kind of caller: anonymous, the demo's customer alice, and staff."""
    subject = "alice" if role is Role.CUSTOMER else "ops"
    header = [] if role is None else ["-H", f"Authorization: Bearer {live.token(subject, role)}"]
    run = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{live.url}/graphql",
         "--checks", "no_server_fault", "--max-examples", "25", "--seed", "20261123",
         "--no-color", "--request-timeout", "20", *header],
        capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "st_hooks",
             "PYTHONPATH": str(CONFORMANCE)})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Any unexpected exception is logged with its error id: there must be none.
    assert "unexpected error" not in live.log()
