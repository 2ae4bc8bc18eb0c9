"""Every string argument of the schema, generated from it: a control character, a value
longer than any column (one character over the longest), and (for ids) digits that are not ASCII get
``INVALID_INPUT`` naming the argument, never INTERNAL_ERROR, and change nothing. On SQLite
and PostgreSQL.

The documents are the authorization table's (one per operation, with valid arguments);
each case replaces one string argument, or one string field of an input object, at a time.
An argument added to the schema is covered by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLUnionType,
    ListValueNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    Visitor,
    parse,
    parse_value,
    print_ast,
    visit,
)
from graphql.language import SelectionSetNode
from tortoise.fields import CharField
from tortoise.models import Model

from api.graphql.context import Context
from api.realtime.hub import Hub
from api.settings import Settings
from api.store import models
from tests.inprocess import schema
from tests.integration.conftest import STAFF, Run
from tests.integration.test_authorization import MUTATIONS, QUERIES, SUBSCRIPTIONS, _fill, _given

NESTED = {"viewer.orders": "{ viewer { orders { totalCount } } }"}
"""Fields below the root that take a string argument."""
LONGEST_COLUMN = max(
    field.max_length for model in vars(models).values()
    if isinstance(model, type) and issubclass(model, Model) and model is not Model
    for field in model._meta.fields_map.values() if isinstance(field, CharField))
BAD_STRINGS = {"NUL": "A\x00B", "escape": "A\x1bB", "long": "A" * (LONGEST_COLUMN + 1)}
BAD_IDS = {"superscript digit": "³", "superscript one": "¹"}


@dataclass(frozen=True)
class Case:
    operation: str
    field_index: int
    """Which field of the document (in visiting order) takes the argument."""
    path: tuple[str | int, ...]
    """Argument name, then input field names (and 0 for a list's first item)."""
    value: str
    kind: str

    @property
    def name(self) -> str:
        return str(self.path[-1] if isinstance(self.path[-1], str) else self.path[-2])


def _documents() -> dict[str, tuple[str, str]]:
    """operation -> (kind, document with placeholders)."""
    found = {name: ("query", row[0]) for name, row in QUERIES.items()}
    found |= {name: ("mutation", row[0]) for name, row in MUTATIONS.items()}
    found |= {name: ("subscription", row[0]) for name, row in SUBSCRIPTIONS.items()}
    return found | {name: ("query", document) for name, document in NESTED.items()}


def _named(type_: GraphQLInputType) -> tuple[GraphQLInputType, bool]:
    """The named type under non-null wrappers, and whether a list is on the way."""
    listed = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        listed = listed or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, listed


def _string_paths(name: str, where: GraphQLArgument | GraphQLInputField
                  ) -> Iterator[tuple[tuple[str | int, ...], bool]]:
    """Every path to a String or ID inside one argument, with whether it is an ID."""
    type_, listed = _named(where.type)
    prefix: tuple[str | int, ...] = (name, 0) if listed else (name,)
    if isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID"):
        yield prefix, type_.name == "ID"
    elif isinstance(type_, GraphQLInputObjectType):
        for field_name, field in type_.fields.items():
            for path, is_id in _string_paths(field_name, field):
                yield prefix + path, is_id


def _fields(document: DocumentNode) -> list[tuple[FieldNode, Any]]:
    """The document's fields in visiting order, each with its definition."""
    info = TypeInfo(schema._schema)
    seen: list[tuple[FieldNode, Any]] = []

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            seen.append((node, info.get_field_def()))

    visit(document, TypeInfoVisitor(info, Collect()))
    return seen


def cases() -> list[Case]:
    found = []
    for operation, (_, text) in _documents().items():
        for index, (_, definition) in enumerate(_fields(parse(text))):
            for arg_name, argument in (definition.args if definition else {}).items():
                for path, is_id in _string_paths(arg_name, argument):
                    values = BAD_STRINGS | (BAD_IDS if is_id else {})
                    found += [Case(operation, index, path, value, kind)
                              for kind, value in values.items()]
    return found


def _with_value(value: ValueNode, path: tuple[str | int, ...], bad: str) -> ValueNode:
    if not path:
        return StringValueNode(value=bad)
    step, rest = path[0], path[1:]
    if isinstance(step, int):
        items = list(value.values) if isinstance(value, ListValueNode) else []
        first = items[0] if items else ObjectValueNode(fields=())
        return ListValueNode(values=(_with_value(first, rest, bad), *items[1:]))
    fields = list(value.fields) if isinstance(value, ObjectValueNode) else []
    kept = [f for f in fields if f.name.value != step]
    old = next((f.value for f in fields if f.name.value == step), ObjectValueNode(fields=()))
    new = ObjectFieldNode(name=NameNode(value=step), value=_with_value(old, rest, bad))
    return ObjectValueNode(fields=(*kept, new))


def document_for(case: Case, ids: dict[str, str]) -> str:
    document = parse(_fill(_documents()[case.operation][1], ids))
    target, definition = _fields(document)[case.field_index]
    name, rest = str(case.path[0]), case.path[1:]
    old = next((a.value for a in target.arguments or () if a.name.value == name),
               ObjectValueNode(fields=()))
    arguments = (*(a for a in target.arguments or () if a.name.value != name),
                 ArgumentNode(name=NameNode(value=name),
                              value=_with_value(old, rest, case.value)))
    selection = target.selection_set
    if isinstance(_named(definition.type)[0], GraphQLUnionType):
        selection = parse_selection("{ __typename ... on InvalidInputError { field } }")

    class Replace(Visitor):
        def leave_field(self, node: FieldNode, *_: Any) -> FieldNode | None:
            if node is not target:
                return None
            return FieldNode(alias=node.alias, name=node.name, arguments=arguments,
                             directives=node.directives, selection_set=selection)

    return print_ast(visit(document, Replace()))


def parse_selection(text: str) -> SelectionSetNode:
    operation = parse(text).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.selection_set


async def _outcome(case: Case, document: str) -> tuple[str | None, Any]:
    """The field an INVALID_INPUT named (None for any other answer), and the answer."""
    context = Context(STAFF, Settings(), hub=Hub())
    if _documents()[case.operation][0] == "subscription":
        stream = await schema.subscribe(document, context_value=context)
        try:
            result = await stream.__anext__()  # type: ignore[union-attr]
        finally:
            await stream.aclose()  # type: ignore[union-attr]
    else:
        result = await schema.execute(document, context_value=context)
    for error in result.errors or []:
        extensions = error.extensions or {}
        if extensions.get("code") == "INVALID_INPUT":
            return extensions.get("field"), result
    for value in (result.data or {}).values():
        if isinstance(value, dict) and value.get("__typename") == "InvalidInputError":
            return value["field"], result
    return None, result


async def _everything() -> dict[str, list[dict[str, Any]]]:
    tables = (models.Product, models.Restock, models.Order, models.OrderLine,
              models.BackOrder, models.BackOrderEvent, models.OutboxEvent,
              models.NotificationPreferences, models.Notification)
    return {model.__name__: await model.all().order_by("id").values() for model in tables}


def test_every_string_argument_is_covered() -> None:
    names = {(c.operation, c.path) for c in cases()}
    assert ("product", ("sku",)) in names
    assert ("placeOrder", ("input", "lines", 0, "sku")) in names
    assert ("setNotificationPreferences", ("input", "pushTarget")) in names
    assert ("viewer.orders", ("after",)) in names
    assert ("backOrders", ("customerId",)) in names


async def test_bad_strings_get_invalid_input_naming_the_field_and_change_nothing(
        gql: Run) -> None:
    ids = await _given(gql)
    before = await _everything()
    wrong = []
    for case in cases():
        document = document_for(case, ids)
        field, result = await _outcome(case, document)
        if field is None or not (field == case.name or field.endswith("." + case.name)):
            wrong.append((case.operation, case.path, case.kind, field, result.errors,
                          result.data))
    assert wrong == []
    assert await _everything() == before


def test_a_bad_value_prints_as_a_string_the_parser_reads_back() -> None:
    for value in (*BAD_STRINGS.values(), *BAD_IDS.values()):
        assert parse_value(print_ast(StringValueNode(value=value))).value == value  # type: ignore[attr-defined]
