"""A column added to a table that may have rows must fill them: every AddField of a NOT NULL
field has a database default (``db_default``). Without one, an existing database with rows in
that table cannot upgrade (0017 shipped without them; the upgrade test found it)."""

from __future__ import annotations

import importlib
import pkgutil

from tortoise.migrations import operations as ops

import api.store.migrations as migrations


def _has_db_default(field: object) -> bool:
    # (Tortoise marks "no database default" with a sentinel of its private class)
    return type(field.db_default).__name__ != "_DB_DEFAULT_NOT_SET"  # type: ignore[attr-defined]


def _added_fields() -> list[tuple[str, str, object]]:
    found = []
    for info in pkgutil.iter_modules(migrations.__path__):
        module = importlib.import_module(f"{migrations.__name__}.{info.name}")
        for operation in module.Migration.operations:
            if isinstance(operation, ops.AddField):
                found.append((info.name, operation.name, operation.field))
    return found


def test_every_added_not_null_column_has_a_database_default() -> None:
    added = _added_fields()
    assert len(added) > 10  # (the scan sees the migrations)
    missing = [f"{name}.{column}" for name, column, field in added
               if not field.null and not _has_db_default(field)]  # type: ignore[attr-defined]
    assert missing == []
