"""GraphQL documents built by hypothesis from the schema's own types, for comparing the plan
path with the executor alone.

Each document has one root field of those that plans serve (queries, a replayed mutation, or
a subscription), a random selection below it (field subsets in any order, nesting, aliases,
``__typename``, inline and named fragments, ``@include``/``@skip`` on literals and
variables, arguments), variables with and without defaults, and sometimes variables that are
wrong or missing, or a document over one of the limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)
from hypothesis import strategies as st


@dataclass
class Document:
    query: str
    variables: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.query}\nvariables: {json.dumps(self.variables)}"


@dataclass
class _Build:
    schema: GraphQLSchema
    draw: Any
    fragments: list[str] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)

    def flag(self) -> str:
        """A Boolean for a directive: a literal, or a variable (with a default or given)."""
        choice = self.draw(st.sampled_from(["true", "false", "var", "default"]))
        if choice in ("true", "false"):
            return choice
        name = f"f{len(self.definitions)}"
        if choice == "default":
            default = self.draw(st.sampled_from(["true", "false"]))
            self.definitions[name] = f"${name}: Boolean = {default}"
        else:
            self.definitions[name] = f"${name}: Boolean!"
            self.variables[name] = self.draw(st.booleans())
        return f"${name}"

    def selection(self, type_: Any, depth: int) -> str:
        named = get_named_type(type_)
        if is_abstract_type(named):
            parts = [f"... on {t.name} {{ {self.selection(t, depth)} }}"
                     for t in self.schema.get_possible_types(named)
                     if self.draw(st.booleans())]
            return " ".join(["__typename", *parts])
        assert isinstance(named, GraphQLObjectType)
        names = sorted(named.fields)
        chosen = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=7))
        parts = [self.field(named, name, depth) for name in chosen]
        parts = [p for p in parts if p]
        if self.draw(st.integers(0, 4)) == 0:
            parts.append("__typename")
        return " ".join(parts) or "__typename"

    def field(self, parent: GraphQLObjectType, name: str, depth: int) -> str:
        definition = parent.fields[name]
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is None
               for a in definition.args.values()):
            return ""  # required arguments below the root: none in our schema but the roots
        text = name
        if "quantity" in definition.args and self.draw(st.booleans()):
            text += f"(quantity: {self.draw(st.integers(-1, 3))})"
        if "first" in definition.args and self.draw(st.booleans()):
            text += f"(first: {self.draw(st.integers(0, 3))})"
        alias = self.draw(st.sampled_from([None] * 4 + [f"{name}2", f"x{name}", "a"]))
        if alias:
            text = f"{alias}: {text}"
        how = self.draw(st.sampled_from(
            ["plain"] * 5 + ["inline", "typed", "named", "include", "skip"]))
        if how in ("include", "skip"):
            text += f" @{how}(if: {self.flag()})"
        if not is_leaf_type(get_named_type(definition.type)):
            if depth <= 0:
                return ""
            text += f" {{ {self.selection(definition.type, depth - 1)} }}"
        return self.wrap(parent, text, how)

    def wrap(self, parent: GraphQLObjectType, text: str, how: str) -> str:
        if how == "inline":
            return f"... {{ {text} }}"
        if how == "typed":
            return f"... on {parent.name} {{ {text} }}"
        if how == "named":
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {parent.name} {{ {text} }}")
            return f"...{name}"
        return text


ROOTS = {
    "query": ["product", "products", "backOrders", "backOrder", "order", "restocks", "viewer"],
    "subscription": ["backOrderUpdated", "productStockChanged", "myBackOrders",
                     "backOrderQueue"],
}


def _argument(build: _Build, name: str, kind: str, values: list[Any]) -> str:
    """An argument as a literal, a variable, or a variable with a default; sometimes a
    wrong value or none at all."""
    value = build.draw(st.sampled_from(values))
    how = build.draw(st.sampled_from(
        ["literal", "literal", "var", "var", "var", "default", "default", "wrong", "missing"]))
    if how == "literal":
        return f"{name}: {json.dumps(value)}"
    var = f"v_{name}"
    if how == "default":
        build.definitions[var] = f"${var}: {kind.rstrip('!')} = {json.dumps(value)}"
        return f"{name}: ${var}"
    build.definitions[var] = f"${var}: {kind}"
    if how == "wrong":
        build.variables[var] = build.draw(st.sampled_from([{"x": 1}, [1, 2], 1.5, True]))
    elif how != "missing":
        build.variables[var] = value
    return f"{name}: ${var}"


def _root_arguments(build: _Build, root: str, skus: list[str], ids: list[Any]) -> str:
    arguments = []
    if root in ("product", "restocks", "productStockChanged", "backOrderQueue"):
        arguments.append(_argument(build, "sku", "String!", skus))
    if root in ("backOrder", "order", "backOrderUpdated"):
        arguments.append(_argument(build, "id", "ID!", ids))
    if root in ("backOrders", "products") and build.draw(st.booleans()):
        arguments.append(_argument(build, "first", "Int", [0, 1, 2, 5, 100]))
    if root == "backOrders" and build.draw(st.booleans()):
        arguments.append(f"orderBy: {build.draw(st.sampled_from(['PLACED', 'QUEUE']))}")
    if root == "backOrders" and build.draw(st.booleans()):
        arguments.append(_argument(build, "sku", "String", skus))
    if root == "backOrderUpdated" and build.draw(st.booleans()):
        arguments.append(_argument(build, "sinceVersion", "Int", [0, 1, 2]))
    return f"({', '.join(arguments)})" if arguments else ""


def _over_a_limit(draw: Any, kind: str, root: str, head: str) -> str:
    """One document over the alias, depth or cost limit (the rules must hold on both paths)."""
    limit = draw(st.sampled_from(["aliases", "depth", "cost"]))
    if limit == "aliases":
        fields = " ".join(f"a{i}: __typename" for i in range(30))
        return f"{kind} {{ {head} {{ {fields} }} }}"
    if limit == "depth":
        inner = "sku"
        for _ in range(6):
            inner = f"restocks {{ product {{ {inner} }} }}"
        return f'query {{ product(sku: "KB") {{ {inner} }} }}'
    return ("query { backOrders(first: 100) { edges { node { order { backOrders { history "
            "{ kind } notifications { attemptLog { at } } } } } } } }")


@st.composite
def documents(draw: Any, schema: GraphQLSchema, kind: str, skus: list[str],
              ids: list[Any]) -> Document:
    """A document whose one root field is of ``kind`` (query or subscription)."""
    build = _Build(schema, draw)
    root = draw(st.sampled_from(ROOTS[kind]))
    root_type = schema.query_type if kind == "query" else schema.subscription_type
    assert root_type is not None
    definition = root_type.fields[root]
    head = root + _root_arguments(build, root, skus, ids)
    if draw(st.integers(0, 9)) == 0:
        return Document(_over_a_limit(draw, kind, root, head), build.variables)
    alias = draw(st.sampled_from([None, None, "top"]))
    head = f"{alias}: {head}" if alias else head
    body = build.selection(definition.type, draw(st.integers(0, 3)))
    definitions = f"({', '.join(build.definitions.values())})" if build.definitions else ""
    name = draw(st.sampled_from(["", " Named"]))
    query = " ".join([f"{kind}{name}{definitions} {{ {head} {{ {body} }} }}", *build.fragments])
    return Document(query, build.variables)
