"""A span per SQL statement, at Tortoise's client (both databases, one way).

The engines (``api/store/sqlite.py``, ``api/store/postgres.py``) hand Tortoise the traced
client only while tracing is on (``get_client_class``), so with tracing off no statement
pays for it. Driver-level instrumentation does not fit here: SQLite runs in aiosqlite's
thread, where the request's span is not current, and the asyncpg instrumentation on the
registry pins an older OpenTelemetry API than the SDK.

A statement gets a span only inside a recording span (a request, a relay publish, a
notification send): the relay's and dispatcher's polls, every half second, make none.
The span holds the statement as sent (its parameters are placeholders, never values).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from api import tracing


class TracedStatements:
    """Mixin for a Tortoise client: each ``execute_*`` in a span (CLIENT, db.* attributes)."""

    db_system = "other_sql"

    def _span(self, query: str, many: int | None = None):  # type: ignore[no-untyped-def]
        tracer = tracing.TRACER
        if tracer is None or not trace.get_current_span().is_recording():
            return None
        operation = query.lstrip().split(None, 1)[0].upper() if query.strip() else "SQL"
        attributes: dict[str, Any] = {"db.system.name": self.db_system,
                                      "db.operation.name": operation,
                                      "db.query.text": query}
        if many is not None:
            attributes["db.operation.batch.size"] = many
        return tracer.start_as_current_span(operation, kind=SpanKind.CLIENT,
                                            attributes=attributes)

    async def execute_query(self, query: str, values: list[Any] | None = None) -> Any:
        span = self._span(query)
        if span is None:
            return await super().execute_query(query, values)  # type: ignore[misc]
        with span:
            return await super().execute_query(query, values)  # type: ignore[misc]

    async def execute_query_dict(self, query: str, values: list[Any] | None = None) -> Any:
        span = self._span(query)
        if span is None:
            return await super().execute_query_dict(query, values)  # type: ignore[misc]
        with span:
            return await super().execute_query_dict(query, values)  # type: ignore[misc]

    async def execute_insert(self, query: str, values: list[Any]) -> Any:
        span = self._span(query)
        if span is None:
            return await super().execute_insert(query, values)  # type: ignore[misc]
        with span:
            return await super().execute_insert(query, values)  # type: ignore[misc]

    async def execute_many(self, query: str, values: list[list[Any]]) -> Any:
        span = self._span(query, len(values))
        if span is None:
            return await super().execute_many(query, values)  # type: ignore[misc]
        with span:
            return await super().execute_many(query, values)  # type: ignore[misc]

    async def execute_script(self, query: str) -> Any:
        span = self._span(query)
        if span is None:
            return await super().execute_script(query)  # type: ignore[misc]
        with span:
            return await super().execute_script(query)  # type: ignore[misc]


class TracedTransaction(TracedStatements):
    """Mixin for a Tortoise transaction: its statements and its COMMIT in spans."""

    async def commit(self) -> None:
        span = self._span("COMMIT")
        if span is None:
            await super().commit()  # type: ignore[misc]
            return
        with span:
            await super().commit()  # type: ignore[misc]
