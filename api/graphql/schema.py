"""The schema, built by ``create_app(settings)`` (and by the SDL export), never at import."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLUnionType,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions import MaxAliasesLimiter, SchemaExtension
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe
from strawberry.utils.operation import get_operation_type

from api import metrics, tracing
from api.graphql.errors import EXCEPTION_HANDLERS, request_codes, with_codes
from api.graphql.limits import cost_limit
from api.graphql.mutations import Mutation
from api.graphql.plans import Planner, Roots, planned_executor
from api.graphql.queries import Query
from api.graphql.spans import OperationSpan
from api.graphql.subscriptions import Subscription
from api.settings import Settings
from api.store.outages import OUTAGES


class Ready(NamedTuple):
    """A document that parses, passes every rule and names one operation."""

    document: DocumentNode
    kind: OperationType
    label: str


class Documents:
    """Parsed and validated documents, remembered by text and by document (one per schema).

    Most clients send a few fixed documents: each is parsed (with the token limit) and
    validated (with every rule) once. Validation results are kept by the document's
    identity, which the parse cache keeps stable, not by its hash (hashing a document walks
    all of it)."""

    def __init__(self, rules: tuple[Any, ...], max_tokens: int, size: int = 1024,
                 hide_suggestions: bool = False) -> None:
        self.rules = rules
        self.hide_suggestions = hide_suggestions
        """Validation errors name no field, type or value the client did not write."""
        self.max_tokens = max_tokens
        self.size = size
        self.parse = lru_cache(maxsize=size)(self._parse)
        self.validated: OrderedDict[tuple[int, Any], tuple[DocumentNode, list[GraphQLError]]]
        self.validated = OrderedDict()
        self.all_rules = (*specified_rules, *rules)
        """Strawberry's rules (graphql-core's specified rules) and ours, as ``on_validate``
        applies them."""
        self.readies: OrderedDict[tuple[str, str | None], Ready | None] = OrderedDict()

    def ready(self, schema: Any, query: str, operation_name: str | None) -> Ready | None:
        """The document of ``query`` when it is valid and ``operation_name`` picks one of its
        operations; None when it is anything else (Strawberry's way answers those)."""
        key = (query, operation_name)
        if key in self.readies:
            return self.readies[key]
        ready: Ready | None = None
        try:
            document = self.parse(query)
        except GraphQLError:
            document = None
        if document is not None and not self.validate(schema, document, self.all_rules):
            operation = get_operation_ast(document, operation_name)
            if operation is not None:
                ready = Ready(document, get_operation_type(document, operation_name),
                              label_of(operation))
        self.readies[key] = ready
        if len(self.readies) > self.size:
            self.readies.popitem(last=False)
        return ready

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def validate(self, schema: Any, document: DocumentNode, rules: tuple[Any, ...]
                 ) -> list[GraphQLError]:
        key = (id(document), rules)
        known = self.validated.get(key)
        if known is not None and known[0] is document:
            return known[1]
        errors = validate(schema, document, rules, hide_suggestions=self.hide_suggestions)
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
        if context.result is not None and context.result.errors:
            context.result.errors = request_codes(context.result.errors)
        counted(operation_label(context), context.result, start, context.context)

    def on_execute(self):  # type: ignore[no-untyped-def]
        yield
        execution = self.execution_context
        after_execution(execution.result, execution.operation_type, execution.context)


class TracedOperations(Operations):
    """``Operations`` with the operation's span around it (``api/graphql/spans.py``); the
    schema is built with it instead only while tracing is on."""

    def on_operation(self):  # type: ignore[no-untyped-def]
        context = self.execution_context
        tracer = tracing.TRACER
        if tracer is None or getattr(context.context, "websocket", None) is not None:
            yield from super().on_operation()  # type: ignore[no-untyped-call]
            return
        span = OperationSpan(tracer)
        try:
            yield from super().on_operation()  # type: ignore[no-untyped-call]
        finally:
            span.end(context.graphql_document, context.operation_name, context.result)


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
    return label_of(operation)


def label_of(operation: OperationDefinitionNode) -> str:
    """An operation's metrics label: its kind and first three root fields (bounded)."""
    fields = sorted({s.name.value for s in operation.selection_set.selections
                     if isinstance(s, FieldNode)})
    return f"{operation.operation.value}:{','.join(fields[:3])}"


_METERS: dict[tuple[str, str], tuple[Any, Any]] = {}
"""Bounded: labels are operation kinds and root field names of valid documents."""


def counted(label: str, result: Any, start: float, context: Any) -> None:
    """The operation's count and time, and its label for the request log."""
    outcome = "ok" if result is not None and not result.errors else (
        "rejected" if label == "invalid" else "error")
    meters = _METERS.get((label, outcome))
    if meters is None:  # a label's children, looked up once (labels() costs every request)
        meters = _METERS[(label, outcome)] = (metrics.REQUESTS.labels(label, outcome),
                                               metrics.LATENCY.labels(label))
    meters[0].inc()
    meters[1].observe(time.perf_counter() - start)
    state = getattr(context, "request_state", None)
    if state is not None:
        state.operation = label


def after_execution(result: Any, kind: OperationType, context: Any) -> None:
    """Error codes and masking on a result; after a mutation, wake whoever publishes."""
    if result is not None and result.errors:
        result.errors = with_codes(result.errors)
    if kind is OperationType.MUTATION:
        if result is not None and not result.errors and OUTAGES.down:
            OUTAGES.recovered()  # a write went through
        hook = getattr(context, "after_mutation", None)
        if hook is not None:
            hook()


SUBSCRIPTION_OVER_HTTP = (
    "A subscription needs a stream: send it with 'Accept: multipart/mixed;"
    "subscriptionSpec=\"1.0\"' (Apollo's multipart) or 'Accept: text/event-stream' "
    "(GraphQL over SSE), or open /graphql as a websocket with the graphql-transport-ws "
    "(or graphql-ws) protocol and send it there.")


class BackOrdersSchema(strawberry.Schema):
    """Strawberry's schema with a leaner way through ``execute`` for a document that is
    ready (valid, one query or mutation, known from an earlier request): the same steps as
    Strawberry's (variables coerced and the operation run by graphql-core's ``execute`` with
    the planned executor, errors processed and logged by ``process_errors``) and as
    ``Operations`` (error codes, after-mutation hook, metrics), without the extension runner
    and its four hook contexts. Anything else (a new, invalid or unparsable document, a
    subscription, operation extensions) takes Strawberry's own way, through ``Operations``.
    Governed by ``BACKORDERS_FAST_QUERIES`` with the plans; the differential tests compare
    both ways."""

    def __init__(self, *args: Any, documents: Documents, lean: bool,
                 roots: Roots | None = None, traced: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.documents = documents
        self.lean = lean
        self.roots = roots
        self.traced = traced
        """Open the operation's span on the lean way (``api/graphql/spans.py``)."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        ready = (self.documents.ready(self._schema, query, operation_name)
                 if isinstance(query, str) and query and isinstance(operation_name, str | None)
                 and operation_extensions is None else None)
        allowed = (DEFAULT_ALLOWED_OPERATION_TYPES if allowed_operation_types is None
                   else allowed_operation_types)
        if ready is not None and ready.kind is OperationType.SUBSCRIPTION and (
                OperationType.SUBSCRIPTION in allowed):
            # ``execute`` is the way of HTTP; websockets come through ``subscribe``.
            result = ExecutionResult(data=None, errors=[GraphQLError(
                SUBSCRIPTION_OVER_HTTP, extensions={"code": "SUBSCRIPTION_NEEDS_WEBSOCKET"})])
            counted("invalid", result, time.perf_counter(), context_value)
            return result
        if not self.lean or ready is None or ready.kind not in allowed or (
                ready.kind is OperationType.SUBSCRIPTION):
            return await super().execute(query, variable_values, context_value, root_value,
                                         operation_name, allowed_operation_types,
                                         operation_extensions)
        # The operation's span (api/graphql/spans.py) only while tracing is on: one check.
        span = OperationSpan(tracing.TRACER) if self.traced and tracing.TRACER else None
        answer: ExecutionResult | None = None
        try:
            start = time.perf_counter()
            answered = None
            if ready.kind is OperationType.QUERY and self.roots is not None:
                root = self.roots.root(self._schema, ready.document, operation_name)
                if root is not None:
                    answered = await self.roots.run(self._schema, root, variable_values,
                                                    context_value)
            if answered is None:
                try:
                    done = await await_maybe(execute(
                        self._schema, ready.document, root_value=root_value,
                        context_value=context_value, variable_values=variable_values,
                        operation_name=operation_name, executor_class=self.execution_context_class,
                        operation_extensions=None))
                    answered = done.data, done.errors
                except Exception as exc:  # as Strawberry's execute: the error is the answer
                    answered = None, [exc if isinstance(exc, GraphQLError)
                                      else GraphQLError(str(exc), original_error=exc)]
            data, errors = answered
            if errors:
                context = self._create_execution_context(
                    query=query, allowed_operation_types=allowed, variable_values=variable_values,
                    context_value=context_value, root_value=root_value,
                    operation_name=operation_name, operation_extensions=None)
                context.graphql_document = ready.document
                context.pre_execution_errors = errors
                self._process_errors(errors, context)
            answer = ExecutionResult(data=data, errors=errors)
            after_execution(answer, ready.kind, context_value)
            if answer.errors:
                answer.errors = request_codes(answer.errors)
            request_error = data is None and errors and not any(e.path for e in errors)
            counted("invalid" if request_error else ready.label, answer, start, context_value)
            return answer
        finally:
            if span is not None:
                span.end(ready.document, operation_name, answer)


def possible_types(schema: strawberry.Schema) -> dict[str, list[str]]:
    """Every interface and union of ``schema`` -> the object types that may come back for
    it, sorted: what Apollo Client's ``InMemoryCache({possibleTypes})`` needs to match
    ``... on Error`` (or ``... on Node``) against a concrete ``__typename``."""
    graphql_schema = schema._schema
    return {
        name: sorted(t.name for t in graphql_schema.get_possible_types(abstract))
        for name, abstract in sorted(graphql_schema.type_map.items())
        if isinstance(abstract, GraphQLInterfaceType | GraphQLUnionType)
        and not name.startswith("__")
    }


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with the abuse limits of ``settings`` (see README: Limits), completing
    plain selections by compiled plans unless ``settings.fast_queries`` is off."""
    # The rule classes are made once: the validation cache is keyed by them, and a class
    # made per request (as QueryDepthLimiter does) would miss it every time.
    rules = (
        create_depth_rule(settings.max_depth, None, None),
        cost_limit(settings.max_cost, settings.max_page_size),
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        # What Strawberry's DisableIntrospection adds, as one of our rules.
        *(() if settings.introspection_on else (NoSchemaIntrospectionCustomRule,)),
    )
    documents = Documents(rules, settings.max_tokens,
                          hide_suggestions=not settings.introspection_on)
    traced = tracing.TRACER is not None
    operations = TracedOperations if traced else Operations
    planner = Planner()
    executor = planned_executor(planner) if settings.fast_queries else None
    return BackOrdersSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[lambda: operations(documents)],
        exception_handlers=EXCEPTION_HANDLERS,
        # Without introspection, errors do not suggest field names either.
        config=StrawberryConfig(relay_max_results=100,
                                disable_field_suggestions=not settings.introspection_on),
        execution_context_class=executor,
        documents=documents,
        lean=settings.fast_queries,
        roots=Roots(planner, executor) if executor is not None else None,
        traced=traced,
    )
