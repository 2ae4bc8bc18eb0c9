"""What a live event's snapshot holds is derived from the models, and always fits a message."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tortoise import fields
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.models import Model

from api.domain.model import Status
from api.realtime import relay
from api.realtime.events import MAX_MESSAGE_BYTES, encode
from api.store import snapshots
from api.store.models import BackOrder, OutboxEvent, Product
from api.store.snapshots import (
    BACK_ORDER_FIELDS,
    MAX_COLUMN_BYTES,
    PRODUCT_FIELDS,
    column_bytes,
    snapshot,
    snapshot_columns,
    worst_case_bytes,
)


class Gadget(Model):
    """Columns of every kind the rule sorts (never registered with Tortoise)."""

    id = fields.BigIntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name=False)
    code = fields.CharField(max_length=341)
    blurb = fields.CharField(max_length=342)
    kind = fields.CharEnumField(Status, max_length=24)
    notes = fields.TextField()
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    blob = fields.BinaryField()
    seen_at = fields.DatetimeField(null=True)


def test_a_snapshot_holds_every_column_but_the_unbounded_ones() -> None:
    names = [name for name, _ in snapshot_columns(Gadget)]
    assert names == ["id", "product_id", "code", "kind", "seen_at"]


def test_a_foreign_key_is_its_id_column_typed_like_the_key_it_refers_to() -> None:
    [(_, product_id)] = [c for c in snapshot_columns(Gadget) if c[0] == "product_id"]
    assert product_id is Product._meta.pk
    assert column_bytes(product_id) == len("-2147483648")


def test_the_bound_is_on_bytes_of_json_text() -> None:
    assert column_bytes(Gadget._meta.fields_map["code"]) == 341 * 6 + 2 <= MAX_COLUMN_BYTES
    assert column_bytes(Gadget._meta.fields_map["blurb"]) == 342 * 6 + 2 > MAX_COLUMN_BYTES
    for name in ("notes", "data", "blob"):
        assert column_bytes(Gadget._meta.fields_map[name]) is None


def test_a_column_of_an_unknown_kind_is_an_error_not_a_guess() -> None:
    with pytest.raises(TypeError, match="TimeDeltaField"):
        column_bytes(fields.TimeDeltaField())


def test_the_public_field_lists_are_the_derived_ones() -> None:
    assert BACK_ORDER_FIELDS == tuple(name for name, _ in snapshot_columns(BackOrder))
    assert PRODUCT_FIELDS == tuple(name for name, _ in snapshot_columns(Product))
    # the ones the hand lists forgot are there now
    assert {"allocated_at", "closed_at", "updated_at"} <= set(BACK_ORDER_FIELDS)
    assert {"order_id", "line_id", "product_id"} <= set(BACK_ORDER_FIELDS)


def test_every_live_event_fits_a_message_by_construction() -> None:
    assert relay.worst_case_message_bytes() <= MAX_MESSAGE_BYTES < 7_999
    relay.check_event_sizes()


def test_start_up_refuses_a_model_whose_events_could_outgrow_a_message(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay, "SNAPSHOT_MODELS", (Gadget,))
    monkeypatch.setattr(relay, "MAX_MESSAGE_BYTES", worst_case_bytes(Gadget))
    with pytest.raises(RuntimeError, match="over the"):
        relay.check_event_sizes()


# Values anywhere in each column's declared range, for the size bound's property test.

def _tz(offset: timedelta) -> timezone:
    return timezone(offset)


_offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                         max_value=timedelta(hours=23, minutes=59)).map(_tz)


def _values(field: fields.Field[Any]) -> st.SearchStrategy[Any]:
    strategy: st.SearchStrategy[Any]
    if isinstance(field, CharEnumFieldInstance):
        strategy = st.sampled_from(list(field.enum_type))
    elif isinstance(field, fields.CharField):
        strategy = st.text(max_size=field.max_length)
    elif isinstance(field, fields.BooleanField):
        strategy = st.booleans()
    elif isinstance(field, fields.IntField):
        strategy = st.integers(field.constraints["ge"], field.constraints["le"])
    elif isinstance(field, fields.DecimalField):
        top = Decimal(10) ** (field.max_digits - field.decimal_places) - 1
        strategy = st.decimals(-top, top, places=field.decimal_places,
                               allow_nan=False, allow_infinity=False)
    elif isinstance(field, fields.DatetimeField):
        strategy = st.datetimes(timezones=_offsets)
    elif isinstance(field, fields.DateField):
        strategy = st.dates()
    else:
        raise AssertionError(f"no values for {type(field).__name__}")
    return st.one_of(st.none(), strategy) if field.null else strategy


def _rows(model: type[Model]) -> st.SearchStrategy[Model]:
    columns = snapshot_columns(model)

    def build(values: list[Any]) -> Model:
        row = model()
        for (name, _), value in zip(columns, values, strict=True):
            setattr(row, name, value)  # a row as Tortoise holds it, FK ids included
        return row

    return st.tuples(*(_values(field) for _, field in columns)).map(lambda t: build(list(t)))


def _as_jsonb(document: dict[str, Any]) -> bytes:
    """The text PostgreSQL's jsonb gives back: spaces after colons and commas."""
    return json.dumps(document, ensure_ascii=False, separators=(", ", ": ")).encode()


_outbox = OutboxEvent._meta.fields_map
_topics = st.text(max_size=_outbox["topic"].max_length)  # type: ignore[attr-defined]
_keys = st.text(max_size=_outbox["key"].max_length)  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", [BackOrder, Product])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_no_row_within_its_declared_sizes_makes_a_larger_event(
        model: type[Model], data: st.DataObject) -> None:
    row = data.draw(_rows(model))
    document = snapshot(row)  # type: ignore[arg-type]
    bound = worst_case_bytes(model)
    assert len(orjson.dumps(document)) <= bound
    assert len(_as_jsonb(document)) <= bound
    item = encode(data.draw(_topics), data.draw(_keys), _as_jsonb(document).decode())
    assert len(item.encode()) + 2 <= relay.worst_case_message_bytes()


def _worst(field: fields.Field[Any]) -> Any:
    """The largest value a column takes: control characters cost six bytes each."""
    if isinstance(field, CharEnumFieldInstance):
        return max(field.enum_type, key=lambda member: len(member.value))
    if isinstance(field, fields.CharField):
        return "\x01" * field.max_length
    if isinstance(field, fields.IntField):
        return field.constraints["ge"]
    if isinstance(field, fields.DecimalField):
        return -(Decimal(10) ** (field.max_digits - field.decimal_places) - 1)
    if isinstance(field, fields.DatetimeField):
        return datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    if isinstance(field, fields.DateField):
        return date(9999, 12, 31)
    return False


@pytest.mark.parametrize("model", [BackOrder, Product])
def test_the_bound_is_close_to_the_largest_real_row(model: type[Model]) -> None:
    row = model()
    for name, field in snapshot_columns(model):
        setattr(row, name, _worst(field))
    size = len(_as_jsonb(snapshot(row)))  # type: ignore[arg-type]
    assert 0.85 * worst_case_bytes(model) <= size <= worst_case_bytes(model)


def test_money_is_written_as_the_database_holds_it() -> None:
    row = Product()
    for name, field in snapshot_columns(Product):
        setattr(row, name, _worst(field))
    row.price = Decimal("10.5")
    assert snapshot(row)["price"] == "10.50"
    assert snapshots.product_from(snapshot(row)).price == Decimal("10.50")
