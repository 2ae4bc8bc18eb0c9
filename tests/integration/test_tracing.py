"""OpenTelemetry traces, with the SDK's in-memory exporter, on SQLite and PostgreSQL: one
``placeOrder`` over HTTP is one trace from the request through its SQL to the relay's
publish and the customer's message (continued through the outbox rows); both ways of
running an operation give the same GraphQL span; with tracing off nothing is set up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from tortoise.backends.base import executor
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext

from api import tracing
from api.app import create_app
from api.auth import mint
from api.cli import main
from api.domain.identity import Role
from api.graphql.context import Context
from api.graphql.schema import Operations, TracedOperations, build_schema
from api.notifications.setup import dispatcher_from
from api.realtime.bus import EventBus
from api.realtime.hub import Hub
from api.realtime.relay import OutboxRelay
from api.settings import Settings
from api.store import models
from api.store.database import is_postgres, tortoise_config
from api.store.postgres import ReleasingAsyncpgClient, TracedAsyncpgClient
from api.store.sqlite import ImmediateSqliteClient, TracedSqliteClient
from tests.integration.conftest import ALICE, STAFF
from tests.integration.operations import CREATE_PRODUCT, PLACE_ORDER

PREFERENCES = """mutation { setNotificationPreferences(input: {email: "alice@example.com",
  channels: [EMAIL], events: []}) { __typename } }"""


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    """Tracing on, every span kept in memory (set up as ``start_from_environment`` does,
    with the in-memory exporter instead of OTLP)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall()
        provider.shutdown()


@pytest.fixture
async def traced_db(database_url: str, exported: InMemorySpanExporter) -> AsyncIterator[str]:
    """The ORM connected once tracing is on, as the app's lifespan connects it."""
    executor.EXECUTOR_CACHE.clear()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        yield database_url


def settings_for(url: str, **more: Any) -> Settings:
    return Settings(database_url=url, environment="development", dispatcher="off",
                    rate_limit_anonymous="100000/minute", **more)


async def given_a_backorderable_product_and_alice_listening(url: str) -> None:
    schema = build_schema(settings_for(url))
    for query, actor, variables in (
        (CREATE_PRODUCT, STAFF, {"input": {"sku": "KB", "name": "Keyboard", "price": "10.00",
                                           "onHand": 0, "policy": {}}}),
        (PREFERENCES, ALICE, {}),
    ):
        result = await schema.execute(query, variable_values=variables,
                                      context_value=Context(actor, settings_for(url)))
        assert result.errors is None, result.errors


async def place_order_over_http(url: str, **more: Any) -> dict[str, Any]:
    settings = settings_for(url, **more)
    app = create_app(settings)
    token = mint(settings, ALICE.subject, Role.CUSTOMER, timedelta(hours=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        response = await client.post("/graphql", headers={"Authorization": f"Bearer {token}"},
                                     json={"query": PLACE_ORDER, "variables": {"input": {
                                         "lines": [{"sku": "KB", "quantity": 2}],
                                         "idempotencyKey": "trace-1"}}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["data"]["placeOrder"]["__typename"] == "PlaceOrderPayload", body
    return body


async def relay_and_dispatch(url: str) -> None:
    """What the lifespan's relay and dispatcher do after the commit, run to the end."""
    bus = EventBus("memory://", Hub(queue_size=100))
    await bus.start()
    try:
        assert await OutboxRelay(bus, postgres=is_postgres(url)).drain() > 0
    finally:
        await bus.stop()
    assert await dispatcher_from(settings_for(url)).run_once() > 0


def by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


async def test_one_place_order_is_one_trace_from_request_to_message(
        traced_db: str, exported: InMemorySpanExporter) -> None:
    await given_a_backorderable_product_and_alice_listening(traced_db)
    exported.clear()  # the setup made no spans of a request: start from nothing

    await place_order_over_http(traced_db)
    await relay_and_dispatch(traced_db)

    spans = list(exported.get_finished_spans())
    [http] = [s for s in spans if s.kind is SpanKind.SERVER]
    assert http.name == "POST /graphql"
    assert http.attributes is not None  # the older HTTP conventions unless opted in
    assert http.attributes.get("http.status_code",
                               http.attributes.get("http.response.status_code")) == 200
    [operation] = by_name(spans, "mutation placeOrder")
    assert operation.parent is not None and operation.parent.span_id == http.context.span_id
    sql = [s for s in spans if s.attributes and "db.system.name" in s.attributes]
    system = "postgresql" if is_postgres(traced_db) else "sqlite"
    assert {s.attributes["db.system.name"] for s in sql if s.attributes} == {system}
    names = {s.name for s in sql}
    assert {"SELECT", "INSERT", "UPDATE", "COMMIT"} <= names, names
    in_request = [s for s in sql if s.start_time and http.start_time and http.end_time
                  and http.start_time <= s.start_time <= http.end_time]
    assert any("outbox_event" in str(s.attributes["db.query.text"])  # type: ignore[index]
               for s in in_request)
    publishes = by_name(spans, "outbox publish")
    sends = by_name(spans, "notification send")
    assert publishes and sends
    trace_id = http.context.trace_id
    assert {s.context.trace_id for s in spans} == {trace_id}  # one trace, nothing else
    request_span_ids = {s.context.span_id for s in spans
                        if s.start_time and http.end_time and s.end_time
                        and s.end_time <= http.end_time}
    for span in publishes + sends:  # continued from the context stored on the outbox rows
        assert span.parent is not None and span.parent.span_id in request_span_ids
    [send] = sends
    assert send.attributes is not None
    assert send.attributes["backorders.notification.event"] == "PLACED"
    assert send.attributes["backorders.notification.outcome"] == "suppressed"  # no URL set
    assert any(s.parent is not None and s.parent.span_id == send.context.span_id
               for s in sql)  # the send's own record of its attempt
    stored = await models.OutboxEvent.all().values_list("trace_context", flat=True)
    assert stored and all(f"-{trace_id:032x}-" in str(value) for value in stored)


async def test_the_relay_and_dispatcher_polls_make_no_spans(
        traced_db: str, exported: InMemorySpanExporter) -> None:
    await relay_and_dispatch_nothing(traced_db)
    assert exported.get_finished_spans() == ()


async def relay_and_dispatch_nothing(url: str) -> None:
    bus = EventBus("memory://", Hub(queue_size=100))
    await bus.start()
    try:
        assert await OutboxRelay(bus, postgres=is_postgres(url)).drain() == 0
    finally:
        await bus.stop()
    assert await dispatcher_from(settings_for(url)).run_once() == 0


async def test_with_tracing_off_nothing_is_set_up_or_stored(db: str) -> None:
    assert tracing.wanted_exporters({}) == []
    assert tracing.start_from_environment({}) is False
    assert tracing.TRACER is None
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # no processor
    client = get_connection("default")
    assert type(client) in (ImmediateSqliteClient, ReleasingAsyncpgClient)
    assert not isinstance(client, TracedSqliteClient | TracedAsyncpgClient)
    app = create_app(settings_for(db))
    assert [m.cls for m in app.user_middleware] != [] and all(
        m.cls is not tracing.HttpSpans for m in app.user_middleware)
    schema: Any = app.state.graphql_view.schema
    assert not schema.traced
    assert all(e is Operations or getattr(e, "__name__", "") == "<lambda>"
               for e in schema.extensions)
    assert type(schema.extensions[0]()) is Operations
    await given_a_backorderable_product_and_alice_listening(db)
    await place_order_over_http(db)
    assert await models.OutboxEvent.filter(trace_context__isnull=False).count() == 0
    assert await models.Notification.filter(trace_context__isnull=False).count() == 0


DOCUMENTS: list[tuple[str, dict[str, Any], str | None]] = [
    ('{ product(sku: "KB") { sku name stock { onHand available } } }', {}, None),
    ('query Shelf($s: String!) { product(sku: $s) { sku price { amount } } }', {"s": "KB"},
     "Shelf"),
    ('query Shelf($s: String!) { product(sku: $s) { sku } }', {}, None),  # variable missing
    ('{ backOrders(first: 2) { edges { node { id status } } } }', {}, None),
    ('{ product(sku: "KB") { nope } }', {}, None),  # invalid
    ('{ product(sku: ', {}, None),  # unparsable
    ('mutation { adjustStock(sku: "NONE", delta: 1) { __typename } }', {}, None),
    ('mutation M { placeOrder(input: {lines: [{sku: "KB", quantity: 1}], idempotencyKey: "s"'
     '}) { __typename } }', {}, "M"),
]


def shape(span: ReadableSpan) -> tuple[Any, ...]:
    return (span.name, dict(span.attributes or {}), span.status.status_code,
            span.status.description)


async def test_the_lean_way_and_the_executor_give_the_same_graphql_span(
        traced_db: str, exported: InMemorySpanExporter) -> None:
    await given_a_backorderable_product_and_alice_listening(traced_db)
    shapes = []
    for fast in (True, False):
        settings = settings_for(traced_db, fast_queries=fast)
        schema = build_schema(settings)
        assert type(schema.extensions[0]()) is TracedOperations
        exported.clear()
        for actor in (STAFF, ALICE):
            for query, variables, name in DOCUMENTS:
                await schema.execute(query, variable_values=variables, operation_name=name,
                                     context_value=Context(actor, settings))
        graphql = [s for s in exported.get_finished_spans()
                   if not (s.attributes and "db.system.name" in s.attributes)]
        assert len(graphql) == 2 * len(DOCUMENTS)
        shapes.append([shape(s) for s in graphql])
    assert shapes[0] == shapes[1]
    names = [s[0] for s in shapes[0][:len(DOCUMENTS)]]
    assert names == ["query product", "query Shelf", "graphql", "query backOrders", "graphql",
                     "graphql", "mutation adjustStock", "mutation M"]
    failed = [s for s in shapes[0] if s[2] is StatusCode.ERROR]
    assert {s[0] for s in failed} == {"graphql"}  # a typed error result is no error
    named = shapes[0][1][1]
    assert named == {"graphql.operation.type": "query", "graphql.operation.name": "Shelf",
                     "backorders.graphql.operation": "query:product"}


@pytest.mark.parametrize(("env", "wanted"), [
    ({}, []),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ["otlp"]),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, ["otlp"]),
    ({"OTEL_TRACES_EXPORTER": "otlp,console"}, ["otlp", "console"]),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
])
def test_tracing_is_on_only_when_the_environment_asks_for_an_exporter(
        env: dict[str, str], wanted: list[str]) -> None:
    assert tracing.wanted_exporters(env) == wanted


@pytest.mark.parametrize("env", [
    {"OTEL_TRACES_EXPORTER": "jaeger"},
    {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
])
def test_an_exporter_this_build_cannot_make_stops_the_start(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="OTEL_"):
        tracing.wanted_exporters(env)


def test_a_bad_exporter_stops_the_command_with_the_variable_named(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jaeger")
    assert main(["check-config"]) == 2
    assert "OTEL_TRACES_EXPORTER: jaeger is not one of" in capsys.readouterr().err
