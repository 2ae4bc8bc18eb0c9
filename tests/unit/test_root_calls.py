"""A root field's resolver is called directly only where Strawberry's wrapper would do
nothing but call it (the differential tests compare the answers both ways)."""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from api.graphql.plans import _direct_call
from api.graphql.schema import build_schema
from api.settings import Settings


class Never(BasePermission):
    message = "no"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Query:
    @strawberry.field
    def plain(self, sku: str, first: int | None = None) -> str:
        return f"{sku}:{first}"

    @strawberry.field
    def with_info(self, info: strawberry.Info, some_id: strawberry.ID) -> str:
        return f"{info.field_name}:{some_id}"

    @strawberry.field(permission_classes=[Never])
    def guarded(self) -> str:
        return "secret"

    @strawberry.field
    def coloured(self, colours: list[Colour]) -> str:
        return ",".join(c.value for c in colours)


def test_only_fields_the_wrapper_adds_nothing_to_are_called_directly() -> None:
    fields = strawberry.Schema(Query)._schema.query_type.fields  # type: ignore[union-attr]
    assert _direct_call(fields["plain"]) is not None
    assert _direct_call(fields["withInfo"]) is not None
    assert _direct_call(fields["guarded"]) is None  # a permission is an extension
    assert _direct_call(fields["coloured"]) is None  # enums are converted


def test_a_direct_call_passes_arguments_by_their_python_names() -> None:
    fields = strawberry.Schema(Query)._schema.query_type.fields  # type: ignore[union-attr]
    call = _direct_call(fields["plain"])
    assert call is not None and call(None, {"sku": "KB", "first": 3}) == "KB:3"


def test_the_hot_root_fields_of_our_schema_are_called_directly() -> None:
    fields = build_schema(Settings())._schema.query_type.fields  # type: ignore[union-attr]
    assert _direct_call(fields["product"]) is not None
    assert _direct_call(fields["backOrder"]) is not None
    assert _direct_call(fields["products"]) is None  # availability: a list of enums
