"""Reads whose SQL is written once per database dialect, not built per call.

Tortoise builds a query's SQL on every call (filters, pypika, the executor): about a
quarter of a millisecond, most of a simple read's server time. A hot read with a fixed
shape is written here once, with ``{}`` where the parameters go, and its rows become model
instances the way Tortoise makes them (``_init_from_db``), so the rest of the code cannot
tell the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Generic, TypeVar

from tortoise.models import Model

M = TypeVar("M", bound=Model)


class PreparedRead(Generic[M]):
    """``SELECT <every column> FROM <model's table> <clause>``; ``{}`` marks a parameter."""

    def __init__(self, model: type[M], clause: str) -> None:
        self.model = model
        self.clause = clause
        self._sql: dict[str, str] = {}

    def sql(self, dialect: str) -> str:
        found = self._sql.get(dialect)
        if found is None:
            found = (f'SELECT {select_list(self.model, "t")} '
                     f'FROM "{self.model._meta.db_table}" t {markers(dialect, self.clause)}')
            self._sql[dialect] = found
        return found

    async def all(self, *params: Any) -> list[M]:
        db = self.model._meta.db
        _, rows = await db.execute_query(self.sql(db.capabilities.dialect), list(params))
        make = self.model._init_from_db
        return [make(**row) for row in rows]

    async def first(self, *params: Any) -> M | None:
        rows = await self.all(*params)
        return rows[0] if rows else None


def columns(model: type[Model]) -> list[str]:
    """The model's columns in the order ``make`` expects them."""
    return list(model._meta.fields_db_projection.values())


def select_list(model: type[Model], alias: str) -> str:
    return ", ".join(f'{alias}."{column}"' for column in columns(model))


NATIVE_ON_POSTGRES = ("IntField", "BigIntField", "CharField", "BooleanField", "DateField",
                      "DatetimeField", "DecimalField")
"""Fields whose value asyncpg already gives as Tortoise would (timestamptz comes aware)."""


@lru_cache(maxsize=64)
def light_class(model: type[Model]) -> type:
    """A slotted, read-only stand-in for ``model``'s instances: its fields, nothing else."""
    names = tuple(model._meta.fields_db_projection)
    return type(f"Light{model.__name__}", (), {
        "__slots__": names,
        "__doc__": f"A row of {model.__name__} read for a response, not for saving.",
    })


@lru_cache(maxsize=64)
def row_maker(model: type[Model], dialect: str, light: bool) -> Callable[[Any, int], Any]:
    """A function of (row, first column) that makes one object of ``model``.

    ``light`` on PostgreSQL makes a ``light_class`` object, about four times cheaper than a
    Tortoise instance; otherwise (or on SQLite, whose values need Tortoise's conversions) it
    makes a model instance exactly as Tortoise does.
    """
    pairs = list(model._meta.fields_db_projection.items())
    if not (light and dialect == "postgres"):
        make = model._init_from_db
        keys = [column for _, column in pairs]
        return lambda row, at: make(**{key: row[at + i] for i, key in enumerate(keys)})
    namespace: dict[str, Any] = {"new": object.__new__, "cls": light_class(model)}
    lines = ["def make(row, at):", "    o = new(cls)"]
    for i, (name, _) in enumerate(pairs):
        field = model._meta.fields_map[name]
        kind = type(field).__name__
        if kind in NATIVE_ON_POSTGRES:
            lines.append(f"    o.{name} = row[at + {i}]")
        else:  # enums and the like: Tortoise's own conversion
            namespace[f"c{i}"] = field.to_python_value
            lines.append(f"    o.{name} = c{i}(row[at + {i}])")
    lines.append("    return o")
    exec("\n".join(lines), namespace)  # field names of our own models only
    return namespace["make"]  # type: ignore[no-any-return]


def markers(dialect: str, clause: str) -> str:
    """``clause`` with each ``{}`` made the dialect's parameter marker."""
    count = clause.count("{}")
    if dialect == "postgres":
        return clause.format(*(f"${n}" for n in range(1, count + 1)))
    return clause.format(*(["?"] * count))
