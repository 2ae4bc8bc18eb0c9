"""The relay's spans: a message's publish continues each trace that wrote its events.

A message packs the events of several changes; for each trace among them (the W3C
``traceparent`` stored on the outbox row by the request's transaction) the publish is a
span in that trace, so a request's trace shows when its events went out. Events written
without a trace context share one span of its own trace. Made only while tracing is on.
"""

from __future__ import annotations

import time

from opentelemetry.trace import SpanKind, Status, StatusCode

from api import tracing
from api.realtime.events import CHANNEL


class Publish:
    """One message's publish, begun now; ``done`` or ``failed`` records its spans."""

    def __init__(self, ids: list[int], contexts: dict[int, str | None]) -> None:
        self.start = time.time_ns()
        self.by_trace: dict[str | None, list[int]] = {}
        for event_id in ids:
            self.by_trace.setdefault(contexts.get(event_id), []).append(event_id)

    def done(self) -> None:
        self._record(None)

    def failed(self, error: BaseException) -> None:
        self._record(error)

    def _record(self, error: BaseException | None) -> None:
        tracer = tracing.TRACER
        if tracer is None:
            return
        end = time.time_ns()
        for traceparent, ids in self.by_trace.items():
            span = tracer.start_span(
                "outbox publish", context=tracing.continued(traceparent),
                kind=SpanKind.PRODUCER, start_time=self.start, attributes={
                    "messaging.system": "broadcaster",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": CHANNEL,
                    "messaging.batch.message_count": len(ids),
                    "backorders.outbox.event_ids": ids,
                })
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end(end_time=end)
