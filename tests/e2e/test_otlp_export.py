"""``backorders serve`` with ``OTEL_EXPORTER_OTLP_ENDPOINT`` sends its spans over OTLP/HTTP
to a local receiver (decoded with opentelemetry-proto): a ``placeOrder`` that arrives with
a ``traceparent`` continues that trace through its SQL, the relay and the message."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql
from tests.integration.operations import CREATE_PRODUCT, PLACE_ORDER

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PREFERENCES = """mutation { setNotificationPreferences(input: {email: "alice@example.com",
  channels: [EMAIL], events: []}) { __typename } }"""


class Receiver(ThreadingHTTPServer):
    """Takes OTLP/HTTP protobuf at /v1/traces; keeps (trace id, span name, attributes)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.spans: list[tuple[str, str, dict[str, Any], str]] = []
        self.resources: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = self.path == "/v1/traces" and (
            self.headers["Content-Type"] == "application/x-protobuf")
        if ok:
            request = ExportTraceServiceRequest.FromString(body)
            with self.server.lock:
                for resource_spans in request.resource_spans:
                    self.server.resources.append(_attributes(resource_spans.resource.attributes))
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            self.server.spans.append((
                                span.trace_id.hex(), span.name, _attributes(span.attributes),
                                span.parent_span_id.hex()))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _attributes(values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        kind = item.value.WhichOneof("value")
        out[item.key] = getattr(item.value, kind) if kind else None
    return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["sqlite", "postgres"])
def traced_server(request: pytest.FixtureRequest, receiver: Receiver,
                  tmp_path: Path) -> Iterator[ServerProcess]:
    url = (f"sqlite://{tmp_path / 'traced.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_database"))
    server = ServerProcess(url, tmp_path / "server.log",
                           OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                           OTEL_BSP_SCHEDULE_DELAY="100", OTEL_SERVICE_NAME="backorders-e2e")
    yield server
    server.stop()


async def test_a_place_order_is_sent_as_one_trace_over_otlp(
        traced_server: ServerProcess, receiver: Receiver) -> None:
    staff, alice = traced_server.token("staff-1", Role.STAFF), traced_server.token("alice")
    async with httpx.AsyncClient(base_url=traced_server.url, timeout=10) as client:
        await graphql(client, CREATE_PRODUCT, staff, input={
            "sku": "KB", "name": "Keyboard", "price": "10.00", "onHand": 0, "policy": {}})
        await graphql(client, PREFERENCES, alice)
        response = await client.post("/graphql", json={"query": PLACE_ORDER, "variables": {
            "input": {"lines": [{"sku": "KB", "quantity": 1}], "idempotencyKey": "otlp-1"}}},
            headers={"Authorization": f"Bearer {alice}",
                     "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["placeOrder"]["__typename"] == "PlaceOrderPayload"
    wanted = {"POST /graphql", "mutation placeOrder", "INSERT", "COMMIT", "outbox publish",
              "notification send"}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with receiver.lock:
            names = {name for trace, name, _, _ in receiver.spans if trace == TRACE_ID}
        if wanted <= names:
            break
        time.sleep(0.1)
    assert wanted <= names, (names, traced_server.log())
    with receiver.lock:
        spans = [s for s in receiver.spans if s[0] == TRACE_ID]
        resources = list(receiver.resources)
    [http] = [s for s in spans if s[1] == "POST /graphql"]
    assert http[3] == "00f067aa0ba902b7"  # the caller's span is the request's parent
    systems = {s[2]["db.system.name"] for s in spans if "db.system.name" in s[2]}
    assert systems in ({"sqlite"}, {"postgresql"})
    assert all(r.get("service.name") == "backorders-e2e" for r in resources)
