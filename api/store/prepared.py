"""Reads whose SQL is written once per database dialect, not built per call.

Tortoise builds a query's SQL on every call (filters, pypika, the executor): about a
quarter of a millisecond, most of a simple read's server time. A hot read with a fixed
shape is written here once, with ``{}`` where the parameters go, and its rows become model
instances the way Tortoise makes them (``_init_from_db``), so the rest of the code cannot
tell the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
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
        dialect = db.capabilities.dialect
        _, rows = await db.execute_query(self.sql(dialect), list(params))
        make = row_maker(self.model, dialect)
        return [make(row, 0) for row in rows]

    async def first(self, *params: Any) -> M | None:
        rows = await self.all(*params)
        return rows[0] if rows else None


def columns(model: type[Model], names: tuple[str, ...] | None = None) -> list[str]:
    """The model's columns in the order ``make`` expects them (only those of the fields
    ``names``, when given)."""
    projection = model._meta.fields_db_projection
    if names is None:
        return list(projection.values())
    return [projection[name] for name in names]


def select_list(model: type[Model], alias: str | None = None,
                names: tuple[str, ...] | None = None) -> str:
    """Every column of ``model`` (or of the fields ``names``), in the order ``row_maker``
    reads them."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{column}"' for column in columns(model, names))


def some_fields(model: type[Model], wanted: frozenset[str] | set[str] | None,
                always: tuple[str, ...]) -> tuple[str, ...] | None:
    """The fields of ``model`` to read for a light row: ``wanted`` and ``always``, in the
    model's order; None (every field) when ``wanted`` is None or names something that is
    not a field."""
    if wanted is None:
        return None
    projection = model._meta.fields_db_projection
    chosen = set(wanted) | set(always)
    if not chosen <= projection.keys():
        return None
    return tuple(name for name in projection if name in chosen)


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


def row_maker(model: type[M], dialect: str, light: bool = False,
              names: tuple[str, ...] | None = None) -> Callable[[Any, int], Any]:
    """A function of (row, first column) that makes one object of ``model`` from a row in
    ``select_list`` order.

    It makes a model instance exactly as Tortoise's ``_init_from_db(**row)`` does, written
    out as straight-line code (no keyword arguments, no loop over the fields: most of the
    cost of reading thousands of rows). ``light`` on PostgreSQL makes a ``light_class``
    object instead, cheaper still, for rows that only go into a response; with ``names``
    (a light row only) the row holds those fields alone, as ``select_list`` with the same
    names reads them, and reading another is an ``AttributeError``.
    """
    if light and dialect == "postgres":
        return _light_maker(model, names)
    if names is not None:
        raise ValueError("only a light row on PostgreSQL is read in part")
    meta = model._meta
    return _instance_maker(model, *(tuple(key for key, _, _ in kind) for kind in (
        meta.db_native_fields, meta.db_default_fields, meta.db_complex_fields)))


@lru_cache(maxsize=64)
def _instance_maker(model: type[M], native: tuple[str, ...], default: tuple[str, ...],
                    complex_: tuple[str, ...]) -> Callable[[Any, int], M]:
    """The arguments are the columns of the three kinds of field Tortoise made for the
    current database (values as they come, the field type's constructor, the field's own
    conversion); a process that switches databases gets a function for each."""
    meta = model._meta
    at = {column: i for i, column in enumerate(columns(model))}
    generated_pk = meta.db_pk_column in meta.generated_db_fields
    namespace: dict[str, Any] = {"new": model.__new__, "cls": model, "put": object.__setattr__}
    lines = ["def make(row, at):", "    o = new(cls)", "    put(o, '_partial', False)",
             "    put(o, '_saved_in_db', True)",
             f"    put(o, '_custom_generated_pk', {not generated_pk})",
             "    put(o, '_await_when_save', {})"]
    for key in native:
        lines.append(f"    put(o, {meta.fields_db_projection_reverse[key]!r}, row[at + {at[key]}])")
    for n, key in enumerate(default):
        namespace[f"t{n}"] = meta.fields_map[meta.fields_db_projection_reverse[key]].field_type
        lines.append(f"    v = row[at + {at[key]}]")
        lines.append(f"    put(o, {meta.fields_db_projection_reverse[key]!r},"
                     f" v if v is None else t{n}(v))")
    for n, key in enumerate(complex_):
        name = meta.fields_db_projection_reverse[key]
        namespace[f"c{n}"] = meta.fields_map[name].to_python_value
        lines.append(f"    put(o, {name!r}, c{n}(row[at + {at[key]}]))")
    lines.append("    return o")
    exec("\n".join(lines), namespace)  # field names of our own models only
    return namespace["make"]  # type: ignore[no-any-return]


@lru_cache(maxsize=256)
def _light_maker(model: type[Model], names: tuple[str, ...] | None = None
                 ) -> Callable[[Any, int], Any]:
    namespace: dict[str, Any] = {"new": object.__new__, "cls": light_class(model)}
    lines = ["def make(row, at):", "    o = new(cls)"]
    for i, name in enumerate(names or model._meta.fields_db_projection):
        field = model._meta.fields_map[name]
        if type(field).__name__ in NATIVE_ON_POSTGRES:
            lines.append(f"    o.{name} = row[at + {i}]")
        elif isinstance(enum := getattr(field, "enum_type", None), type) and issubclass(
                enum, Enum):  # by a dict of its members, else as Tortoise does
            namespace[f"m{i}"] = {m.value: m for m in enum}
            namespace[f"c{i}"] = field.to_python_value
            lines.append(f"    v = row[at + {i}]")
            lines.append(f"    o.{name} = m{i}.get(v) or c{i}(v)")
        else:  # the like: Tortoise's own conversion
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
