"""Reads whose SQL is written once per database dialect, not built per call.

Tortoise builds a query's SQL on every call (filters, pypika, the executor): about a
quarter of a millisecond, most of a simple read's server time. A hot read with a fixed
shape is written here once, with ``{}`` where the parameters go, and its rows become model
instances the way Tortoise makes them (``_init_from_db``), so the rest of the code cannot
tell the difference.
"""

from __future__ import annotations

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
            meta = self.model._meta
            columns = ", ".join(f'"{column}"' for column in meta.fields_db_projection.values())
            count = self.clause.count("{}")
            markers = ([f"${n}" for n in range(1, count + 1)] if dialect == "postgres"
                       else ["?"] * count)
            found = f'SELECT {columns} FROM "{meta.db_table}" {self.clause.format(*markers)}'
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
