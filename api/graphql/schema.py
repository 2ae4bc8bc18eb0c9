"""The schema, built once per app."""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import strawberry
from graphql import FieldNode, get_operation_ast
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types.graphql import OperationType

from api import metrics
from api.graphql.errors import EXCEPTION_HANDLERS, DomainErrorCodes
from api.graphql.fastpath import compiler
from api.graphql.fastquery import query_planner
from api.graphql.limits import cost_limit
from api.graphql.mutations import Mutation
from api.graphql.queries import Query
from api.graphql.subscriptions import Subscription
from api.settings import Settings


class Observe(SchemaExtension):
    """Counts and times each operation, named by its root fields (bounded label values)."""

    def on_operation(self):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        yield
        context = self.execution_context
        label = operation_label(context)
        result = context.result
        outcome = "ok" if result is not None and not result.errors else (
            "rejected" if label == "invalid" else "error")
        metrics.REQUESTS.labels(label, outcome).inc()
        metrics.LATENCY.labels(label).observe(time.perf_counter() - start)
        state = getattr(context.context, "request_state", None)
        if state is not None:
            state.operation = label


def operation_label(context: Any) -> str:
    document = context.graphql_document
    if document is None or (context.result is not None and context.result.data is None
                            and context.result.errors and not any(
                                e.path for e in context.result.errors)):
        return "invalid"
    try:
        operation = get_operation_ast(document, context.operation_name)
    except Exception:
        return "invalid"
    if operation is None:
        return "invalid"
    fields = sorted({s.name.value for s in operation.selection_set.selections
                     if isinstance(s, FieldNode)})
    return f"{operation.operation.value}:{','.join(fields[:3])}"


class AfterMutation(SchemaExtension):
    """After a mutation (committed by then), wake whoever publishes the outbox."""

    def on_execute(self):  # type: ignore[no-untyped-def]
        yield
        context = self.execution_context.context
        hook = getattr(context, "after_mutation", None)
        if hook is not None and self.execution_context.operation_type is OperationType.MUTATION:
            hook()


class Schema(strawberry.Schema):
    """Strawberry's schema, with the subscription fast path of ``fastpath.py`` and the
    query plans of ``fastquery.py`` (validated with the same ``rules`` and token limit)."""

    def __init__(self, *args: Any, rules: tuple[Any, ...] = (), max_tokens: int = 5000,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plan = compiler(self._schema)
        self.query_plan = lru_cache(maxsize=512)(
            query_planner(self._schema, rules, max_tokens))

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        allowed = allowed_operation_types is None or (
            OperationType.SUBSCRIPTION in allowed_operation_types)
        plan = self._plan(query, operation_name) if allowed else None
        if plan is not None:
            return plan.run(context_value, variable_values)
        return await super().stream(
            query, variable_values, context_value, root_value, operation_name,
            operation_extensions, allowed_operation_types,
        )


def build_schema(settings: Settings | None = None) -> Schema:
    """The schema with the abuse limits of ``settings`` (see README: Limits)."""
    settings = settings or Settings()
    # The rule classes are made once: the validation cache is keyed by them, and a class
    # made per request (as QueryDepthLimiter does) would miss it every time.
    rules = (
        create_depth_rule(settings.max_depth, None, None),
        cost_limit(settings.max_cost, settings.max_page_size),
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    )
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=1024),
        lambda: AddValidationRules(list(rules)),
        lambda: ValidationCache(maxsize=1024),
        DomainErrorCodes,
        AfterMutation,
        Observe,
    ]
    if not settings.introspection_on:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(relay_max_results=100),
        rules=rules,
        max_tokens=settings.max_tokens,
    )


# The exported SDL and the in-process tests use this one; the app builds its own.
schema = build_schema(Settings(environment="development"))
