"""The GraphQL operation's span, one shape for both ways of running an operation.

Strawberry's own way runs it inside ``TracedOperations.on_operation`` (schema.py); the lean
way of ``BackOrdersSchema.execute`` (and the root plans under it) skips the extension
runner, so it opens the same span itself. Both end it with ``OperationSpan.end`` on the
final result, so name, attributes and status cannot drift apart (the tests compare them).

- name: ``{type} {operationName}``, or ``{type} {root fields}`` for an anonymous
  operation (bounded: field names of the schema), ``graphql`` for a document that does not
  parse or validate;
- ``graphql.operation.type``, ``graphql.operation.name`` (when named),
  ``backorders.graphql.operation`` (the metrics label, ``mutation:placeOrder``);
- status ERROR when the result has errors, with the first one's message (masked as the
  client sees it) and ``backorders.graphql.errors`` (how many).

Operations on a websocket get no span: HTTP requests are what is traced.
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, get_operation_ast
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, Tracer


class OperationSpan:
    """Begun and made current at the start of an operation; ``end`` names and closes it."""

    __slots__ = ("span", "token")

    def __init__(self, tracer: Tracer) -> None:
        self.span = tracer.start_span("graphql")
        self.token = otel_context.attach(trace.set_span_in_context(self.span))

    def end(self, document: Any, operation_name: str | None, result: Any) -> None:
        try:
            self._describe(document, operation_name, result)
        finally:
            otel_context.detach(self.token)
            self.span.end()

    def _describe(self, document: Any, operation_name: str | None, result: Any) -> None:
        span = self.span
        errors = getattr(result, "errors", None) or []
        operation = None
        if document is not None and not (result is not None and result.data is None and errors
                                         and not any(e.path for e in errors)):
            try:
                operation = get_operation_ast(document, operation_name)
            except Exception:
                operation = None
        if operation is not None:
            kind = operation.operation.value
            fields = sorted({s.name.value for s in operation.selection_set.selections
                             if isinstance(s, FieldNode)})
            name = operation.name.value if operation.name else None
            span.update_name(f"{kind} {name or ','.join(fields[:3])}")
            span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
            span.set_attribute("backorders.graphql.operation", f"{kind}:{','.join(fields[:3])}")
        if errors:
            span.set_attribute("backorders.graphql.errors", len(errors))
            span.set_status(Status(StatusCode.ERROR, str(errors[0].message)[:200]))
