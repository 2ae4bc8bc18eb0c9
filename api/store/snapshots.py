"""Rows as small JSON snapshots (for outbox events) and back.

What a snapshot holds is derived from the model's own column declarations, in their order:
every column of the table (data fields and foreign-key id columns) that is *bounded*, that
is, whose value can never take more than ``MAX_COLUMN_BYTES`` of JSON text. JSON, binary and
text columns without a ``max_length`` are unbounded, and so is a CharField too long for the
bound; nothing else is left out. The conversions to JSON and back come from the same fields,
so a new column reaches live events with no list to update.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise.fields import (
    BinaryField,
    BooleanField,
    CharField,
    DateField,
    DatetimeField,
    DecimalField,
    Field,
    FloatField,
    IntField,
    JSONField,
    TextField,
    UUIDField,
)
from tortoise.fields.relational import ForeignKeyFieldInstance, RelationalField
from tortoise.models import Model

from api.store.models import BackOrder, Product

JSON_BYTES_PER_CHAR = 6
"""The most one character of a string takes in JSON text as orjson and PostgreSQL's jsonb
write it: ``\\u001f`` for a control character; any other is at most 4 bytes of UTF-8."""
MAX_COLUMN_BYTES = 2048
"""The rule, stated once: a column whose JSON value can exceed this is not in a snapshot
(a CharField of up to 341 characters is in; JSON, binary and plain text never are)."""
SEPARATOR_BYTES = 2
"""jsonb writes a space after every colon and comma, so a stored payload read back from
PostgreSQL is longer than orjson's compact form; bounds count the longer one."""

_DATETIME = "9999-12-31T23:59:59.999999+23:59:59.999999"
_FLOAT = "-2.2250738585072014e-308"

ToJson = Callable[[Any], Any]
ToPython = Callable[[Any], Any]


def text_bytes(max_length: int) -> int:
    """The most bytes a string of ``max_length`` characters takes as JSON text."""
    return max_length * JSON_BYTES_PER_CHAR + len('""')


def column_bytes(field: Field[Any]) -> int | None:
    """The most bytes a column's value takes as JSON text (``null`` included), or None
    when nothing bounds it. A field of a kind not known here is an error, not a guess."""
    if isinstance(field, (JSONField, TextField, BinaryField)):
        return None
    if isinstance(field, CharField):
        size = text_bytes(field.max_length)
    elif isinstance(field, BooleanField):
        size = len("false")
    elif isinstance(field, IntField):  # also Small/BigInt and IntEnum: the type's own range
        size = max(len(str(limit)) for limit in field.constraints.values())
    elif isinstance(field, DecimalField):  # written quantized: digits, sign and point
        size = field.max_digits + len('"-."')
    elif isinstance(field, DatetimeField):
        size = len(_DATETIME) + len('""')
    elif isinstance(field, DateField):
        size = len('"9999-12-31"')
    elif isinstance(field, FloatField):
        size = len(_FLOAT)
    elif isinstance(field, UUIDField):
        size = 36 + len('""')
    else:
        raise TypeError(f"snapshots do not know how large a {type(field).__name__} can be")
    return max(size, len("null"))


def bounded(field: Field[Any]) -> bool:
    size = column_bytes(field)
    return size is not None and size <= MAX_COLUMN_BYTES


def columns(model: type[Model]) -> list[tuple[str, Field[Any]]]:
    """Every column of ``model`` as (attribute name, field), as declared: a foreign key
    becomes its ``<name>_id`` column, typed like the key it refers to (Tortoise adds that
    field itself only when it starts, and this is read before)."""
    found: list[tuple[str, Field[Any]]] = []
    for name, field in model._meta.fields_map.items():
        if isinstance(field, ForeignKeyFieldInstance):  # one-to-one too
            found.append((f"{name}_id", _referred(model, field)))
        elif not isinstance(field, RelationalField) and not getattr(field, "reference", None):
            found.append((name, field))
    return found


def _referred(model: type[Model], fk: ForeignKeyFieldInstance[Any]) -> Field[Any]:
    target = fk.model_name
    if isinstance(target, str):  # "app.Model": our models live in the declaring module
        target = getattr(sys.modules[model.__module__], target.rpartition(".")[2])
    meta = target._meta
    return meta.fields_map[fk.to_field] if fk.to_field else meta.fields_map[meta.pk_attr]


def snapshot_columns(model: type[Model]) -> list[tuple[str, Field[Any]]]:
    return [(name, field) for name, field in columns(model) if bounded(field)]


def worst_case_bytes(model: type[Model]) -> int:
    """The most bytes a snapshot of ``model`` takes as JSON text, from the declarations."""
    fields = snapshot_columns(model)
    members = sum(len(name) + len('"":') + SEPARATOR_BYTES + int(column_bytes(field) or 0)
                  for name, field in fields)
    return len("{}") + members + (len(",") + SEPARATOR_BYTES) * max(len(fields) - 1, 0)


def _to_json(field: Field[Any]) -> ToJson:
    """What makes a column's Python value JSON (a value of a plain type is never passed)."""
    if isinstance(field, (DateField, DatetimeField)):
        return lambda value: value.isoformat()
    if isinstance(field, DecimalField):  # as the database holds it: quantized
        quant = field.quant
        return lambda value: str(Decimal(value).quantize(quant))
    return lambda value: value.value if isinstance(value, Enum) else str(value)


def _shape(model: type[Model]) -> tuple[tuple[str, ToJson, ToPython], ...]:
    return tuple((name, _to_json(field), field.to_python_value)
                 for name, field in snapshot_columns(model))


_BACK_ORDER = _shape(BackOrder)
_PRODUCT = _shape(Product)
BACK_ORDER_FIELDS = tuple(name for name, _, _ in _BACK_ORDER)
PRODUCT_FIELDS = tuple(name for name, _, _ in _PRODUCT)
SNAPSHOT_MODELS: tuple[type[Model], ...] = (BackOrder, Product)

_PLAIN_TYPES = frozenset({int, str, bool, float, type(None)})
"""Types a snapshot holds as they are (checked first: most fields are of these)."""


def snapshot(row: BackOrder | Product) -> dict[str, Any]:
    shape = _BACK_ORDER if isinstance(row, BackOrder) else _PRODUCT
    plain = _PLAIN_TYPES
    return {name: value if type(value := getattr(row, name)) in plain else to_json(value)
            for name, to_json, _ in shape}


def back_order_from(data: dict[str, Any]) -> BackOrder:
    """An unsaved row with the snapshot's values, for rendering."""
    return BackOrder(**_typed(data, _BACK_ORDER))


def product_from(data: dict[str, Any]) -> Product:
    return Product(**_typed(data, _PRODUCT))


def _typed(data: dict[str, Any], shape: tuple[tuple[str, ToJson, ToPython], ...]
           ) -> dict[str, Any]:
    """The values as the ORM itself reads them from a row (dates, Decimal, enums)."""
    return {name: None if (value := data.get(name)) is None else to_python(value)
            for name, _, to_python in shape}
