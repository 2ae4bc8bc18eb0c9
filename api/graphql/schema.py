"""The schema, built once per app."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from api.graphql.errors import EXCEPTION_HANDLERS, DomainErrorCodes
from api.graphql.mutations import Mutation
from api.graphql.queries import Query


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            DomainErrorCodes,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(relay_max_results=100),
    )


schema = build_schema()
