"""Every field says how it is answered, and live events carry what subscribers can select."""

from __future__ import annotations

import ast

from graphql import GraphQLObjectType, get_named_type

from api.graphql.fields import Column, ExecutorOnly, Known, Undeclared, spec_of
from api.store import models
from api.store.snapshots import BACK_ORDER_FIELDS, PRODUCT_FIELDS
from tests.inprocess import schema

ROOTS = {"Query", "Mutation", "Subscription"}


def _object_types() -> list[GraphQLObjectType]:
    return [t for name, t in schema._schema.type_map.items()
            if isinstance(t, GraphQLObjectType) and not name.startswith("__")
            and name not in ROOTS]


def test_every_field_of_an_object_type_declares_how_it_is_answered() -> None:
    undeclared = [
        f"{t.name}.{name}"
        for t in _object_types()
        for name, field in t.fields.items()
        if isinstance(spec_of(field.extensions["strawberry-definition"]), Undeclared)
    ]
    assert undeclared == [], (
        "a resolver without column()/known()/executor_field() (api/graphql/fields.py): "
        f"{undeclared}")


def _reads(expr: str) -> set[str]:
    """The attributes of ``r`` an expression reads."""
    return {node.attr for node in ast.walk(ast.parse(expr, mode="eval"))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "r"}


def _selectable(type_: GraphQLObjectType, seen: frozenset[str] = frozenset()) -> set[str]:
    """Attributes of the row that a subscriber's selection on ``type_`` can read from it
    (through plain fields and fields whose object is the row itself)."""
    attributes: set[str] = set()
    for field in type_.fields.values():
        definition = field.extensions["strawberry-definition"]
        spec = spec_of(definition)
        child = get_named_type(field.type)
        if spec is None:
            attributes.add(definition.python_name)
        elif isinstance(spec, Column):
            attributes |= _reads(spec.expr)
            if spec.expr == "r" and isinstance(child, GraphQLObjectType) and (
                    child.name not in seen):
                attributes |= _selectable(child, seen | {child.name})
        elif isinstance(spec, Known):
            attributes |= _reads(spec.key)
        elif isinstance(spec, ExecutorOnly):
            attributes.add("id")  # executor fields load by the row's id
    return attributes


def test_live_snapshots_hold_every_column_a_subscriber_can_select() -> None:
    for type_name, model, snapshot in (("BackOrder", models.BackOrder, BACK_ORDER_FIELDS),
                                       ("Product", models.Product, PRODUCT_FIELDS)):
        type_ = schema._schema.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType)
        columns = set(model._meta.fields_map) | {f"{n}_id" for n in model._meta.fk_fields}
        wanted = {a for a in _selectable(type_) if a in columns}
        missing = wanted - set(snapshot)
        assert not missing, f"{type_name} events lack {sorted(missing)}"
        assert wanted  # the walk found the fields at all
