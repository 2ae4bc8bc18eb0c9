"""Prepared SQL for hot paths, through the Tortoise connection of the current transaction.

Tortoise builds every query through pypika, which costs more CPU than the database spends
on a short statement; on the order path that CPU is spent while a product row is locked.
These helpers write SQL once per shape, with ``$1``-style parameters (turned into SQLite's
``?1``) and the models' own field converters, so the same code runs on both databases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

import orjson
from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.fields import DatetimeField, Field, JSONField
from tortoise.models import Model

from api.domain.notices import FOLDS
from api.store import prepared

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


async def insert_values(model: type[Model], names: Sequence[str],
                        rows: Sequence[Sequence[Any]],
                        shared: Mapping[str, Any] | None = None) -> None:
    """Insert rows of ``model`` given as field values in ``names`` order (JSON fields as
    plain JSON data), plus ``shared`` values that are the same for every row; the other
    fields get their defaults, as a new model instance would.

    On PostgreSQL this is one statement over arrays, whatever the number of rows (no bind
    parameter per value); on SQLite, ``insert``'s prepared statement once per row.
    """
    if not rows:
        return
    shared = shared or {}
    db = connection()
    if not is_postgres(db) or len(rows) == 1:
        await insert([model(**dict(zip(names, row, strict=True)), **shared) for row in rows])
        return
    sql, plain, documents, constant, stamped = _unnest_insert_sql(
        model, tuple(names), tuple(shared))
    columns = list(zip(*rows, strict=True))
    values: list[Any] = [list(columns[i]) for i in plain]
    values += [_json_array(columns[i]) for i in documents]
    fields = model._meta.fields_map
    values += [fields[name].to_db_value(shared.get(name, default), model)
               for name, default in constant]
    now = timezone.localtime()
    values += [now] * stamped
    await db.execute_query(sql, values)


def _json_array(column: Sequence[Any]) -> str:
    """A whole column of JSON values as one JSON array (PostgreSQL splits it again)."""
    return orjson.dumps(column).decode()


@cache
def _unnest_insert_sql(model: type[Model], names: tuple[str, ...], shared: tuple[str, ...]
                       ) -> tuple[str, list[int], list[int], list[tuple[str, Any]], int]:
    """``INSERT ... SELECT`` over one array per column (a JSON column: one JSON array,
    joined by position), then one parameter per field the rows do not give: a shared
    value or the field's default, or "now" for a timestamp set on insert.

    Returns the SQL, the positions in ``names`` of the plain and of the JSON columns, the
    (name, default) of each constant and the number of "now" parameters."""
    meta = model._meta
    column = meta.fields_db_projection
    fields = meta.fields_map
    plain = [i for i, name in enumerate(names) if not isinstance(fields[name], JSONField)]
    documents = [i for i, name in enumerate(names) if isinstance(fields[name], JSONField)]
    params = [f"${n + 1}::{pg_type(fields[names[i]])}[]" for n, i in enumerate(plain)]
    aliases = "".join(f'"{column[names[i]]}", ' for i in plain)
    source = f"unnest({', '.join(params)}) WITH ORDINALITY AS r({aliases}n)"
    selected = {names[i]: f'r."{column[names[i]]}"' for i in plain}
    number = len(plain)
    for j, i in enumerate(documents):
        number += 1
        source += (f" JOIN jsonb_array_elements(${number}::jsonb) WITH ORDINALITY"
                   f" AS j{j}(value, n) USING (n)")
        selected[names[i]] = f"j{j}.value"
    constant: list[tuple[str, Any]] = []
    stamped: list[str] = []
    for name, _ in _columns(model):
        field = fields[name]
        if name in names:
            continue
        if name not in shared and isinstance(field, DatetimeField) and (
                field.auto_now or field.auto_now_add):
            stamped.append(name)
            continue
        constant.append((name, field.default() if callable(field.default) else field.default))
    for name in [name for name, _ in constant] + stamped:
        number += 1
        selected[name] = f"${number}::{pg_type(fields[name])}"
    targets = ", ".join(f'"{column[name]}"' for name in selected)
    sql = (f'INSERT INTO "{meta.db_table}" ({targets}) SELECT {", ".join(selected.values())}'
           f" FROM {source} ORDER BY n")
    return sql, plain, documents, constant, len(stamped)


def pg_type(field: Field[Any]) -> str:
    """The PostgreSQL type of a field's values, without a length (a cast to VARCHAR(n)
    would cut a long value short instead of refusing it)."""
    sql_type = str(field.get_for_dialect("postgres", "SQL_TYPE"))
    base = sql_type.split("(")[0].upper()
    return {"VARCHAR": "TEXT", "DECIMAL": "NUMERIC"}.get(base, base)


async def update_rows(rows: Sequence[M], fields: Sequence[str]) -> None:
    """One UPDATE of ``fields`` for every row: on PostgreSQL, one statement over arrays
    (any number of rows); else one prepared statement executed per row (Tortoise's
    bulk_update builds a CASE per column per row, which costs more than the database
    work)."""
    if not rows:
        return
    db = connection()
    model = type(rows[0])
    if is_postgres(db) and len(rows) > 1:
        await _update_set_based(db, rows, fields)
        return
    executor = db.executor_class(model=model, db=db)
    sql = executor.get_update_sql(list(fields), {})
    columns = [model._meta.fields_map[name] for name in fields]
    pk = model._meta.pk
    await db.execute_many(sql, [
        [column.to_db_value(getattr(row, column.model_field_name), row) for column in columns]
        + [pk.to_db_value(row.pk, row)]
        for row in rows
    ])


async def _update_set_based(db: BaseDBAsyncClient, rows: Sequence[M],
                            fields: Sequence[str]) -> None:
    model = type(rows[0])
    pk = model._meta.pk
    columns = [model._meta.fields_map[name] for name in fields]
    values: list[list[Any]] = [[pk.to_db_value(row.pk, row) for row in rows]]
    for column in columns:
        if isinstance(column, DatetimeField) and column.auto_now:
            # What to_db_value does for each row, once: the time now, kept on the rows.
            now = timezone.localtime()
            kept = column.to_python_value(now)
            for row in rows:
                setattr(row, column.model_field_name, kept)
            values.append([now] * len(rows))
            continue
        values.append([column.to_db_value(getattr(row, column.model_field_name), row)
                       for row in rows])
    await db.execute_query(_unnest_update_sql(model, tuple(fields)), values)


@cache
def _unnest_update_sql(model: type[Model], fields: tuple[str, ...]) -> str:
    meta = model._meta
    names = (meta.pk_attr, *fields)
    params = ", ".join(f"${i + 1}::{pg_type(meta.fields_map[name])}[]"
                       for i, name in enumerate(names))
    aliases = ", ".join(f'"{meta.fields_db_projection[name]}"' for name in names)
    sets = ", ".join(f'"{meta.fields_db_projection[name]}" = v."{meta.fields_db_projection[name]}"'
                     for name in fields)
    key = meta.db_pk_column
    return (f'UPDATE "{meta.db_table}" AS t SET {sets} FROM unnest({params}) AS v({aliases})'
            f' WHERE t."{key}" = v."{key}"')


async def fetch_models(model: type[M], sql: str, values: Sequence[Any] = ()) -> list[M]:
    """Rows of ``SELECT <prepared.select_list(model)> ...`` as model instances, made by
    ``prepared.row_maker`` (what Tortoise's ``_init_from_db`` does, written out)."""
    db = connection()
    postgres = is_postgres(db)
    _, records = await db.execute_query(dialect_sql(sql, postgres), list(values))
    make = prepared.row_maker(model, str(db.capabilities.dialect))
    return [make(record, 0) for record in records]


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


CLAIMABLE_NOTIFICATIONS = (
    'SELECT {columns} FROM "notification" n'
    " WHERE ((n.\"status\" = 'PENDING' AND n.\"due_at\" <= $1"
    "         AND (n.\"event\" NOT IN ({folding}) OR n.\"created_at\" <= $2))"
    "        OR (n.\"status\" = 'SENDING' AND n.\"claimed_until\" < $1))"
    '   AND NOT EXISTS (SELECT 1 FROM "notification" e'
    '                   WHERE e."back_order_id" = n."back_order_id"'
    '                     AND e."channel" = n."channel" AND e."address" = n."address"'
    "                     AND e.\"id\" < n.\"id\" AND e.\"status\" IN ({open}))"
    ' ORDER BY n."id" LIMIT $3{lock}'
)
"""Messages due to be sent (the ones a later one folds into, date changes and release
date moves, once held for the coalescing window) or whose
claim expired, each only while no earlier message of its recipient and back order is open:
one back order's messages go out in order across every dispatcher. A correlated subquery,
which the ORM cannot write."""


async def claimable_notifications(model: type[M], now: Any, held: Any, limit: int,
                                  open_statuses: Sequence[str]) -> list[M]:
    """Rows of ``CLAIMABLE_NOTIFICATIONS``, locked (``SKIP LOCKED``) on PostgreSQL."""
    fields = model._meta.fields_map
    postgres = is_postgres(connection())
    sql = CLAIMABLE_NOTIFICATIONS.format(
        columns=prepared.select_list(model, "n"),
        open=", ".join(f"'{status}'" for status in sorted(open_statuses)),
        folding=", ".join(f"'{event}'" for event in sorted(FOLDS)),
        lock=" FOR UPDATE OF n SKIP LOCKED" if postgres else "")
    due = fields["due_at"]
    return await fetch_models(model, sql, [due.to_db_value(now, model),
                                           due.to_db_value(held, model), limit])


async def units_on_back_order(customer_id: str, product_ids: Sequence[int]) -> dict[int, int]:
    """Units of ``customer_id``'s open back orders (not shipped or cancelled) per product,
    less any part of them shipped already."""
    marks = ", ".join(f"${n}" for n in range(2, len(product_ids) + 2))
    rows = await fetch(
        "SELECT product_id, SUM(quantity - shipped) AS units FROM back_order"
        " WHERE customer_id = $1"
        f" AND product_id IN ({marks}) AND status IN ('WAITING', 'PARTIALLY_ALLOCATED',"
        " 'ALLOCATED') GROUP BY product_id", [customer_id, *product_ids])
    return {int(row["product_id"]): int(row["units"]) for row in rows}


async def add_to_orders(column: str, amounts: Mapping[int, Any]) -> None:
    """Add each amount to its order's money ``column`` (``amount_charged`` or
    ``amount_refunded``): one statement on PostgreSQL, one prepared per order on SQLite."""
    if not amounts:
        return
    assert column in ("amount_charged", "amount_refunded")
    db = connection()
    if is_postgres(db):
        await db.execute_query(
            f'UPDATE "customer_order" AS o SET "{column}" = o."{column}" + v.amount'
            " FROM unnest($1::INT[], $2::NUMERIC[]) AS v(id, amount) WHERE o.id = v.id",
            [list(amounts), list(amounts.values())])
        return
    await db.execute_many(
        f'UPDATE "customer_order" SET "{column}" = "{column}" + ? WHERE "id" = ?',
        [[str(amount), order_id] for order_id, amount in amounts.items()])


async def close_authorizations(back_order_ids: Sequence[int], now: Any) -> None:
    """The open authorizations of these back orders are spent: captured or voided in full."""
    if not back_order_ids:
        return
    db = connection()
    at = DatetimeField().to_db_value(now, Model)
    sql = ('UPDATE "charge" SET "state" = \'CLOSED\', "closed_at" = $1 WHERE "kind" ='
           " 'AUTHORIZATION' AND \"state\" IN ('AUTHORIZED', 'EXPIRED') AND")
    if is_postgres(db):
        await db.execute_query(sql + ' "back_order_id" = ANY($2::INT[])',
                               [at, list(back_order_ids)])
        return
    for start in range(0, len(back_order_ids), 500):
        chunk = list(back_order_ids[start:start + 500])
        marks = ", ".join(f"${i + 2}" for i in range(len(chunk)))
        await db.execute_query(dialect_sql(sql + f' "back_order_id" IN ({marks})', False),
                               [at, *chunk])
