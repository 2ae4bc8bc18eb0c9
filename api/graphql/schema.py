"""The schema, built by ``create_app(settings)`` (and by the SDL export), never at import."""

from __future__ import annotations

import time
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import strawberry
from graphql import DocumentNode, FieldNode, GraphQLError, get_operation_ast, parse, validate
from strawberry.extensions import DisableIntrospection, MaxAliasesLimiter, SchemaExtension
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types.graphql import OperationType

from api import metrics
from api.graphql.errors import EXCEPTION_HANDLERS, with_codes
from api.graphql.limits import cost_limit
from api.graphql.mutations import Mutation
from api.graphql.plans import Planner, planned_executor
from api.graphql.queries import Query
from api.graphql.subscriptions import Subscription
from api.settings import Settings


class Documents:
    """Parsed and validated documents, remembered by text and by document (one per schema).

    Most clients send a few fixed documents: each is parsed (with the token limit) and
    validated (with every rule) once. Validation results are kept by the document's
    identity, which the parse cache keeps stable, not by its hash (hashing a document walks
    all of it)."""

    def __init__(self, rules: tuple[Any, ...], max_tokens: int, size: int = 1024) -> None:
        self.rules = rules
        self.max_tokens = max_tokens
        self.size = size
        self.parse = lru_cache(maxsize=size)(self._parse)
        self.validated: OrderedDict[tuple[int, Any], tuple[DocumentNode, list[GraphQLError]]]
        self.validated = OrderedDict()

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def validate(self, schema: Any, document: DocumentNode, rules: tuple[Any, ...]
                 ) -> list[GraphQLError]:
        key = (id(document), rules)
        known = self.validated.get(key)
        if known is not None and known[0] is document:
            return known[1]
        errors = validate(schema, document, rules)
        self.validated[key] = (document, errors)
        if len(self.validated) > self.size:
            self.validated.popitem(last=False)
        return errors


class Operations(SchemaExtension):
    """Our part of every operation, in one extension (each extension costs every operation,
    and every open subscription, a little): the token limit and the parse cache, validation
    with every rule and its cache (``Documents``), domain error codes and masking
    (``errors.with_codes``), waking whoever publishes the outbox after a mutation (committed
    by then), and a count and time of each operation, named by its root fields (bounded
    label values)."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def on_parse(self):  # type: ignore[no-untyped-def]
        context = self.execution_context
        if context.query:  # else Strawberry says the query is missing
            try:
                context.graphql_document = self.documents.parse(context.query)
            except GraphQLError:  # Strawberry parses it again and answers with the error
                context.parse_options["max_tokens"] = self.documents.max_tokens
        yield

    def on_validate(self):  # type: ignore[no-untyped-def]
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = self.documents.validate(
            context.schema._schema, context.graphql_document,
            (*context.validation_rules, *self.documents.rules))
        yield

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

    def on_execute(self):  # type: ignore[no-untyped-def]
        yield
        execution = self.execution_context
        result = execution.result
        if result is not None and result.errors:
            result.errors = with_codes(result.errors)
        hook = getattr(execution.context, "after_mutation", None)
        if hook is not None and execution.operation_type is OperationType.MUTATION:
            hook()


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


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with the abuse limits of ``settings`` (see README: Limits), completing
    plain selections by compiled plans unless ``settings.fast_queries`` is off."""
    # The rule classes are made once: the validation cache is keyed by them, and a class
    # made per request (as QueryDepthLimiter does) would miss it every time.
    rules = (
        create_depth_rule(settings.max_depth, None, None),
        cost_limit(settings.max_cost, settings.max_page_size),
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    )
    documents = Documents(rules, settings.max_tokens)
    extensions: list[Any] = [lambda: Operations(documents)]
    if not settings.introspection_on:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(relay_max_results=100),
        execution_context_class=planned_executor(Planner()) if settings.fast_queries
        else None,
    )
