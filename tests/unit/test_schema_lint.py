"""The schema is written for client developers: every type, field, argument, enum value and
input field has a description, and every name follows one convention.

The conventions: types PascalCase; fields and arguments camelCase; enum values
UPPER_SNAKE_CASE; input types end in ``Input``; a mutation answers a union named
``...Result`` whose members are one ``...Payload`` type and types implementing ``Error``.
Introspection types and GraphQL's own scalars and directives are not ours to describe.
"""

from __future__ import annotations

import re
from enum import Enum

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_specified_directive,
    is_specified_scalar_type,
)

from tests.inprocess import schema

PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*")
CAMEL = re.compile(r"[a-z][A-Za-z0-9]*")
UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")


def lint(graphql_schema: GraphQLSchema) -> list[str]:
    """Every missing description and naming-convention break, one line each."""
    problems: list[str] = []
    for name, type_ in sorted(graphql_schema.type_map.items()):
        if name.startswith("__") or is_specified_scalar_type(type_):
            continue
        problems += _type(type_)
    problems += _mutation_results(graphql_schema)
    for directive in graphql_schema.directives:
        if not is_specified_directive(directive):
            where = f"@{directive.name}"
            problems += _described(where, directive.description)
            problems += _named(where, directive.name, CAMEL, "camelCase")
            problems += _arguments(where, directive.args)
    return problems


def _described(where: str, description: str | None) -> list[str]:
    return [] if description and description.strip() else [f"{where}: no description"]


def _named(where: str, name: str, pattern: re.Pattern[str], convention: str) -> list[str]:
    return [] if pattern.fullmatch(name) else [f"{where}: not {convention}"]


def _arguments(where: str, arguments: dict[str, GraphQLArgument]) -> list[str]:
    problems: list[str] = []
    for name, argument in arguments.items():
        problems += _described(f"{where}({name}:)", argument.description)
        problems += _named(f"{where}({name}:)", name, CAMEL, "camelCase")
    return problems


def _type(type_: GraphQLNamedType) -> list[str]:
    problems = _described(type_.name, type_.description)
    problems += _named(type_.name, type_.name, PASCAL, "PascalCase")
    if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        for name, field in type_.fields.items():
            where = f"{type_.name}.{name}"
            problems += _described(where, field.description)
            problems += _named(where, name, CAMEL, "camelCase")
            problems += _arguments(where, getattr(field, "args", {}))
    if isinstance(type_, GraphQLInputObjectType) and not type_.name.endswith("Input"):
        problems.append(f"{type_.name}: an input type's name ends in Input")
    if isinstance(type_, GraphQLEnumType):
        for name, value in type_.values.items():
            where = f"{type_.name}.{name}"
            problems += _described(where, value.description)
            problems += _named(where, name, UPPER_SNAKE, "UPPER_SNAKE_CASE")
    return problems


def _mutation_results(graphql_schema: GraphQLSchema) -> list[str]:
    mutation = graphql_schema.mutation_type
    problems: list[str] = []
    for name, field in (mutation.fields.items() if mutation else ()):
        result = get_named_type(field.type)
        where = f"{mutation.name}.{name}"  # type: ignore[union-attr]
        if not isinstance(result, GraphQLUnionType) or not result.name.endswith("Result"):
            problems.append(f"{where}: answers a union named ...Result")
            continue
        payloads = [m.name for m in result.types
                    if not any(i.name == "Error" for i in m.interfaces)]
        if len(payloads) != 1 or not payloads[0].endswith("Payload"):
            problems.append(f"{result.name}: one ...Payload member beside the errors, not "
                            f"{payloads}")
    return problems


def test_the_schema_is_described_and_named_by_the_conventions() -> None:
    assert lint(schema._schema) == []


@strawberry.type(description="A tiny schema for the lint's own test.")
class Tiny:
    described: int = strawberry.field(description="This one is described.")
    bare: int


def test_the_lint_finds_a_missing_description() -> None:
    assert lint(strawberry.Schema(query=Tiny)._schema) == ["Tiny.bare: no description"]


class Colour(Enum):
    DARK_RED = "dark red"
    light_blue = "light blue"


ColourEnum = strawberry.enum(Colour, description="A colour.")


@strawberry.input(description="A filter whose name breaks the convention.")
class Filter:
    colour: ColourEnum = strawberry.field(description="The colour.")  # type: ignore[valid-type]


@strawberry.type(description="Named wrongly in three ways.")
class Named:
    @strawberry.field(description="A field with an undescribed argument.")
    def pick(self, filter: Filter) -> int:
        return 0


def test_the_lint_finds_names_that_break_the_conventions() -> None:
    assert lint(strawberry.Schema(query=Named)._schema) == [
        "Colour.DARK_RED: no description",
        "Colour.light_blue: no description",
        "Colour.light_blue: not UPPER_SNAKE_CASE",
        "Filter: an input type's name ends in Input",
        "Named.pick(filter:): no description",
    ]
