"""OpenTelemetry traces: off unless the standard ``OTEL_*`` variables ask for an exporter.

``start_from_environment()`` (``create_app``, ``backorders worker``) sets up a tracer
provider only when ``OTEL_TRACES_EXPORTER`` names one (``otlp``, ``console``) or an OTLP
endpoint is given (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._TRACES_ENDPOINT``), and
``OTEL_SDK_DISABLED`` is not ``true``. The SDK reads the rest itself (sampler, batch sizes,
resource, the exporter's endpoint, headers and timeout).

Every traced seam asks ``TRACER`` once: None means off, and then nothing else is done (the
HTTP span's middleware and the traced database clients are not even put in place). What
links a request to the relay and the dispatcher is the W3C ``traceparent`` of the span
that wrote an outbox row, stored on the row (``traceparent()``) and continued by its
consumer (``continued()``).

This module imports nothing else of ``api``: every layer may use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER: Tracer | None = None
"""The tracer of every span of ours, None while tracing is off."""
PROVIDER: TracerProvider | None = None
NAME = "backorders"
EXPORTERS = ("otlp", "console")
W3C = TraceContextTextMapPropagator()
"""The outbox rows keep W3C trace context whatever OTEL_PROPAGATORS says (a row is read
by our own relay and dispatcher, not by another vendor's agent)."""
TRACEPARENT_CHARS = 55
"""``00-<32 hex trace id>-<16 hex span id>-<2 hex flags>``."""


def wanted_exporters(env: Mapping[str, str]) -> list[str]:
    """The span exporters the environment asks for; none means tracing stays off."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")
             if n.strip()]
    if not named:  # the spec's default (otlp) only when an endpoint says where to
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT")
        return ["otlp"] if endpoint else []
    named = [n for n in named if n != "none"]
    unknown = [n for n in named if n not in EXPORTERS]
    if unknown:
        raise ValueError(f"OTEL_TRACES_EXPORTER: {', '.join(unknown)} is not one of "
                         f"{', '.join(EXPORTERS)}, none")
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf")
    if "otlp" in named and protocol != "http/protobuf":
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol} is not supported; "
                         "use http/protobuf")
    return named


def start_from_environment(env: Mapping[str, str] | None = None) -> bool:
    """Set up tracing as the environment asks (once per process); whether it is on."""
    if TRACER is not None:
        return True
    names = wanted_exporters(os.environ if env is None else env)
    if not names:
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    environ = os.environ if env is None else env
    named = "OTEL_SERVICE_NAME" in environ or "service.name=" in environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", "")
    provider = SdkTracerProvider(resource=Resource.create({} if named else {
        SERVICE_NAME: NAME}))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    trace.set_tracer_provider(provider)  # for any other library's spans
    install(provider)
    return True


def _exporter(name: str):  # type: ignore[no-untyped-def]
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: OTEL_EXPORTER_OTLP_*


def install(provider: TracerProvider) -> Tracer:
    """Trace with ``provider`` (the tests pass one with an in-memory exporter)."""
    global TRACER, PROVIDER
    PROVIDER = provider
    TRACER = provider.get_tracer(NAME)
    return TRACER


def uninstall() -> None:
    """Tracing off again (tests)."""
    global TRACER, PROVIDER
    TRACER = PROVIDER = None


def traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, to store on an outbox row; None when
    tracing is off or no span is recording."""
    if TRACER is None:
        return None
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    return carrier.get("traceparent")


def continued(value: str | None) -> Context | None:
    """The context a consumer continues from a stored ``traceparent`` (None: a new trace)."""
    if not value:
        return None
    return W3C.extract({"traceparent": value})


PROBES = "/healthz,/readyz,/metrics"
"""Not traced unless OTEL_PYTHON_ASGI_EXCLUDED_URLS (or ..._EXCLUDED_URLS) says otherwise:
probes and scrapes every few seconds would drown the requests."""


class HttpSpans:
    """The HTTP request's server span (OpenTelemetry's ASGI middleware: incoming
    ``traceparent``, semantic-convention attributes, status), outside the ``Gateway``.
    Put in the app only while tracing is on. Websockets are not traced: a socket lives for
    hours, and its operations would all fall in one trace."""

    def __init__(self, app: Any) -> None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.util.http import parse_excluded_urls

        self.app = app
        excluded = (os.environ.get("OTEL_PYTHON_ASGI_EXCLUDED_URLS")
                    or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS") or PROBES)
        self.traced = OpenTelemetryMiddleware(
            app, tracer_provider=PROVIDER, exclude_spans=["receive", "send"],
            excluded_urls=parse_excluded_urls(excluded))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.traced(scope, receive, send)
        else:
            await self.app(scope, receive, send)
