"""The vendored GraphiQL files (api/graphiql/assets) are the ones their manifest names, from
the versions scripts/graphiql/package-lock.json pins, and they go into the package."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

from api import graphiql

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((graphiql.ASSETS / "manifest.json").read_text())
REFRESH = "run scripts/refresh-graphiql (never edit api/graphiql/assets by hand)"


def test_every_vendored_file_has_the_checksum_its_manifest_lists() -> None:
    on_disk = {p.name for p in graphiql.ASSETS.iterdir()} - {"manifest.json"}
    assert on_disk == set(MANIFEST["files"]), REFRESH
    for name, entry in MANIFEST["files"].items():
        data = (graphiql.ASSETS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name}: {REFRESH}"
        assert len(data) == entry["bytes"], f"{name}: {REFRESH}"


def test_the_manifest_is_of_the_versions_the_lock_file_pins() -> None:
    lock = json.loads((ROOT / "scripts/graphiql/package-lock.json").read_text())["packages"]
    wanted = json.loads((ROOT / "scripts/graphiql/package.json").read_text())["dependencies"]
    for package, entry in MANIFEST["packages"].items():
        locked = lock[f"node_modules/{package}"]
        assert (entry["version"], entry["integrity"]) == (
            locked["version"], locked["integrity"]), f"{package}: {REFRESH}"
    assert {p: e["version"] for p, e in MANIFEST["packages"].items()} == wanted


def test_the_vendored_files_stay_small_minified_bundles() -> None:
    sizes = {name: entry["bytes"] for name, entry in MANIFEST["files"].items()}
    assert all(".min." in name for name in sizes)
    assert sum(sizes.values()) < 2_000_000


def test_the_package_data_carries_the_page_and_its_files() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["api.graphiql"]
    carried = {p.relative_to(graphiql.HERE) for pattern in patterns
               for p in graphiql.HERE.glob(pattern)}
    wanted = {p.relative_to(graphiql.HERE) for p in graphiql.HERE.rglob("*")
              if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}
    assert wanted <= carried


def test_the_page_names_only_files_the_service_serves() -> None:
    files = graphiql.files()
    page = files.page.decode()
    named = {part.split('"')[0] for part in page.split(f"{graphiql.PREFIX}/{files.version}/")[1:]}
    assert named == set(files.bodies)
    assert "http" not in page.replace("http-equiv", "")
