"""How a field of the API is declared: once, on its Strawberry type.

A field's value is either

- a plain attribute of the object the parent resolved to (``sku: str`` on a type whose
  objects are ``models.Product`` rows): Strawberry reads it, and so does a plan;
- ``column("expression")``: a Python expression over ``r`` (the object) and ``ctx`` (the
  request's ``Context``). The executor's resolver and the compiled plans are both made from
  that one text, so they cannot say different things. ``staff=True`` makes it null for
  everyone but staff;
- ``known("product", "r.product_id")``: a row another read of the same request put aside
  (a page reads its products and orders at once); the executor loads it when it was not;
- ``executor_field("why")``: an ordinary Strawberry resolver that plans leave to the executor
  (it takes arguments, loads a list, ...). A field of a planned type that is none of these
  fails a test.

The value of an object-typed field is what that type's fields read as ``r``: an ORM row for
the row types, a tuple for ``Money``, a plain object for payloads and errors.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

from api.graphql.context import Info

PLAN = "backorders.plan"
"""The key of a field's plan spec in its Strawberry metadata."""


@dataclass(frozen=True)
class Column:
    expr: str
    """Python over ``r`` and ``ctx``; names from ``NAMES`` only."""
    staff: bool = False


@dataclass(frozen=True)
class Known:
    kind: str
    """``products`` or ``orders``: ``ctx.loaders.known_<kind>`` and the loader of that row."""
    key: str
    """The id, as an expression over ``r``."""


@dataclass(frozen=True)
class ExecutorOnly:
    reason: str


@dataclass(frozen=True)
class Undeclared:
    """A resolver that says nothing about plans: a test fails on one in an object type."""

    name: str


Spec = Column | Known | ExecutorOnly | Undeclared


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


NAMES: dict[str, Any] = {"str": str, "zip": zip, "len": len, "_iso": _iso}
"""What an expression may call besides ``r`` and ``ctx``; plans compile with the same names."""


def helper(function: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``function`` callable from field expressions (by its own name)."""
    NAMES[function.__name__] = function
    return function


def compile_expression(expr: str) -> Callable[[Any, Any], Any]:
    ast.parse(expr, mode="eval")  # a syntax error names the field's text at import
    return eval(f"lambda r, ctx: ({expr})", NAMES)  # type: ignore[no-any-return]


def is_staff(ctx: Any) -> bool:
    actor = ctx.actor
    return actor is not None and actor.is_staff


NAMES["_is_staff"] = is_staff


def guarded(spec: Column) -> str:
    """The expression as both paths evaluate it (staff-only fields are null for others)."""
    if spec.staff:
        return f"(({spec.expr}) if _is_staff(ctx) else None)"
    return spec.expr


def column(expr: str, *, description: str | None = None, staff: bool = False) -> Any:
    """A field answered by ``expr`` over the object ``r`` and the request ``ctx``."""
    spec = Column(expr, staff)
    get = compile_expression(guarded(spec))

    def resolve(root: Any, info: Info) -> Any:
        return get(root, info.context)

    return strawberry.field(resolver=resolve, description=description, metadata={PLAN: spec})


def known(kind: str, key: str, *, description: str | None = None) -> Any:
    """A row of ``kind`` by the id ``key``: the one the request put aside, or loaded."""
    spec = Known(kind, key)
    get_key = compile_expression(key)
    singular = kind.removesuffix("s")

    def resolve(root: Any, info: Info) -> Any:
        loaders = info.context.loaders
        id_ = get_key(root, info.context)
        found = getattr(loaders, f"known_{kind}").get(id_)
        if found is not None:
            return found
        return _must(getattr(loaders, singular).load(id_))

    return strawberry.field(resolver=resolve, description=description, metadata={PLAN: spec})


async def _must(pending: Any) -> Any:
    row = await pending
    assert row is not None, "a row its parent names must exist"
    return row


def executor_field(reason: str, **options: Any) -> Any:
    """A resolver the plans leave to the executor; use as ``@executor_field("why")``."""
    return strawberry.field(metadata={PLAN: ExecutorOnly(reason)}, **options)


def spec_of(field: StrawberryField) -> Spec | None:
    """The field's declared plan spec; None for a plain attribute."""
    spec = field.metadata.get(PLAN) if field.metadata else None
    if spec is None and field.base_resolver is not None:
        return Undeclared(field.python_name)
    return spec
