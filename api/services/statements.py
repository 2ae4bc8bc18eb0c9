"""Prepared SQL for hot paths, through the Tortoise connection of the current transaction.

Tortoise builds every query through pypika, which costs more CPU than the database spends
on a short statement; on the order path that CPU is spent while a product row is locked.
These helpers write SQL once per shape, with ``$1``-style parameters (turned into SQLite's
``?1``) and the models' own field converters, so the same code runs on both databases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def connection() -> BaseDBAsyncClient:
    return get_connection("default")


def is_postgres(db: BaseDBAsyncClient) -> bool:
    return str(db.capabilities.dialect) == "postgres"


@cache
def dialect_sql(sql: str, postgres: bool) -> str:
    """``$n`` parameters as the connection wants them (SQLite numbers them ``?n``)."""
    return sql if postgres else re.sub(r"\$(\d+)", r"?\1", sql)


async def fetch(sql: str, values: Sequence[Any] = ()) -> list[dict[str, Any]]:
    db = connection()
    return await db.execute_query_dict(dialect_sql(sql, is_postgres(db)), list(values))


async def execute(sql: str, values: Sequence[Any] = ()) -> int:
    db = connection()
    count, _ = await db.execute_query(dialect_sql(sql, is_postgres(db)), list(values))
    return count


async def insert(rows: Sequence[M]) -> None:
    """Insert unsaved rows of one model: one prepared statement, executed once per row
    in a single pipelined call (primary keys are not read back)."""
    if not rows:
        return
    db = connection()
    model = type(rows[0])
    sql = _insert_sql(model, 1, "", is_postgres(db))
    await db.execute_many(sql, [_values(model, row) for row in rows])


async def insert_returning_ids(rows: Sequence[M], key: str) -> None:
    """Insert unsaved rows of one model in one statement and set their ids.

    ``key`` names a field that tells the rows apart (the database may return them in any
    order), e.g. ``product_id`` for the lines of one order.
    """
    if not rows:
        return
    db = connection()
    model = type(rows[0])
    column = model._meta.fields_db_projection[key]
    sql = _insert_sql(model, len(rows), f' RETURNING "id", "{column}" AS "key"',
                      is_postgres(db))
    values = [value for row in rows for value in _values(model, row)]
    by_key = {getattr(row, key): row for row in rows}
    for found in await db.execute_query_dict(sql, values):
        row = by_key[found["key"]]
        row.id = found["id"]
        row._saved_in_db = True


async def update_rows(rows: Sequence[M], fields: Sequence[str]) -> None:
    """One prepared UPDATE of ``fields`` executed for every row (Tortoise's bulk_update
    builds a CASE per column per row, which costs more than the database work)."""
    if not rows:
        return
    db = connection()
    model = type(rows[0])
    executor = db.executor_class(model=model, db=db)
    sql = executor.get_update_sql(list(fields), {})
    columns = [model._meta.fields_map[name] for name in fields]
    pk = model._meta.pk
    await db.execute_many(sql, [
        [column.to_db_value(getattr(row, column.model_field_name), row) for column in columns]
        + [pk.to_db_value(row.pk, row)]
        for row in rows
    ])


@cache
def _columns(model: type[Model]) -> tuple[tuple[str, str], ...]:
    """(field name, column) of every column an INSERT writes: all but a generated key."""
    meta = model._meta
    return tuple((name, column) for name, column in meta.fields_db_projection.items()
                 if not meta.fields_map[name].generated)


@cache
def _insert_sql(model: type[Model], count: int, returning: str, postgres: bool) -> str:
    columns = _columns(model)
    width = len(columns)
    rows = ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
        for r in range(count)
    )
    names = ", ".join(f'"{column}"' for _, column in columns)
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES {rows}{returning}'
    return dialect_sql(sql, postgres)


def _values(model: type[Model], row: Model) -> list[Any]:
    fields = model._meta.fields_map
    return [fields[name].to_db_value(getattr(row, name), row) for name, _ in _columns(model)]
