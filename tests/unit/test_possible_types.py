"""``backorders export-schema --possible-types`` writes what Apollo Client's cache needs:
each interface and union with its object types, the same as the live schema's
introspection answers, so ``... on Error`` matches every concrete error."""

from __future__ import annotations

import json
from pathlib import Path

from api.cli import main
from api.graphql.schema import build_schema
from api.settings import Settings

INTROSPECT = """{ __schema { types { name kind possibleTypes { name } } } }"""


def test_possible_types_file_matches_the_introspection_of_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "possible-types.json"
    assert main(["export-schema", "--output", str(tmp_path / "schema.graphql"),
                 "--possible-types", str(out)]) == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    answer = build_schema(Settings()).execute_sync(INTROSPECT)
    assert answer.errors is None
    introspected = {
        t["name"]: sorted(p["name"] for p in t["possibleTypes"])
        for t in answer.data["__schema"]["types"]
        if t["kind"] in ("INTERFACE", "UNION") and not t["name"].startswith("__")
    }
    assert written == introspected
    # Every error type of every result union is an Error, so the cache can match it.
    errors = set(written["Error"])
    assert "NotFoundError" in errors
    for name, members in written.items():
        if name.endswith("Result"):
            assert {m for m in members if m.endswith("Error")} <= errors, name
