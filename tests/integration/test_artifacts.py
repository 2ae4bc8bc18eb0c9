"""Checked artifacts: the exported SDL and the migrations match the code."""

from __future__ import annotations

from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from api.store.database import tortoise_config
from tests.inprocess import schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_exported_from_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is out of date: run `backorders export-schema`"
    )


async def test_the_migrations_match_the_models(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path / 'x.sqlite3'}")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        detector = MigrationAutodetector(ctx.apps, config["apps"])
        writers = await detector.changes()
    assert writers == [], "models changed without a migration: run `tortoise makemigrations`"
