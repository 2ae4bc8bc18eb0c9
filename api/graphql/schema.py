"""The schema, built once per app."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types.graphql import OperationType

from api.graphql.errors import EXCEPTION_HANDLERS, DomainErrorCodes
from api.graphql.mutations import Mutation
from api.graphql.queries import Query
from api.graphql.subscriptions import Subscription


class AfterMutation(SchemaExtension):
    """After a mutation (committed by then), wake whoever publishes the outbox."""

    def on_execute(self):  # type: ignore[no-untyped-def]
        yield
        context = self.execution_context.context
        hook = getattr(context, "after_mutation", None)
        if hook is not None and self.execution_context.operation_type is OperationType.MUTATION:
            hook()


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            DomainErrorCodes,
            AfterMutation,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(relay_max_results=100),
    )


schema = build_schema()
