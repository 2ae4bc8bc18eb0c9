"""Webhooks through GraphQL and the dispatcher, on SQLite and PostgreSQL.

The receiver is a fake ``Sender``: it records each request and answers what the test says.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.services.clock import utcnow
from api.store.leadership import Leadership
from api.store.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.webhooks.dispatcher import WebhookDispatcher, WebhookSettings
from api.webhooks.sender import Response
from tests.integration import steps
from tests.integration.conftest import ALICE, STAFF, Run

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
E = """on Error { code message } ... on InvalidInputError { field }"""
CREATE = """mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  __typename ... on WebhookEndpointPayload { endpoint { id url events enabled
  previousSecretExpiresAt } } ... """ + E + " } }"
ROTATE = """mutation($id: ID!, $secret: String!, $hours: Float) {
  rotateWebhookSecret(id: $id, secret: $secret, overlapHours: $hours) { __typename
  ... on WebhookEndpointPayload { endpoint { previousSecretExpiresAt } } ... """ + E + " } }"
UPDATE = """mutation($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { __typename
  ... on WebhookEndpointPayload { endpoint { url events enabled } } ... """ + E + " } }"
DELETE = """mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { __typename
  ... on DeleteWebhookEndpointPayload { deletedId } ... on Error { code } } }"""
DELIVERIES = """query($status: [WebhookDeliveryStatus!]) { webhookDeliveries(status: $status) {
  totalCount edges { node { id webhookId eventType subject status attempts lastError
  lastStatusCode attemptLog { number outcome statusCode error } } } } }"""
ADJUST = 'mutation { adjustStock(sku: "KB", delta: 1) { __typename } }'
RETRY = """mutation($id: ID!) { retryWebhookDelivery(id: $id) { __typename
  ... on WebhookDeliveryPayload { delivery { status } } ... on Error { code } } }"""


@dataclass
class Receiver:
    """A fake receiver: ``answers[url]`` is the status it gives (200 by default)."""

    answers: dict[str, int | None] = field(default_factory=dict)
    got: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    timeout: float = 1.0
    allow_private: bool = True

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def post(self, url: str, body: str, headers: dict[str, str]) -> Response:
        self.got.append((url, body, headers))
        status = self.answers.get(url, 200)
        return Response(status, None if status else "connection refused")

    def bodies(self, url: str) -> list[dict[str, Any]]:
        return [json.loads(body) for u, body, _ in self.got if u == url]


def dispatcher(receiver: Receiver, db: str, **options: Any) -> WebhookDispatcher:
    config = WebhookSettings(**{"backoff_base": 0.001, "backoff_cap": 0.001, **options})
    return WebhookDispatcher(config, postgres=db.startswith("postgres"), name="test",
                             sender=receiver)  # type: ignore[arg-type]


async def endpoint(gql: Run, url: str = "https://erp.example.com/hooks",
                   events: tuple[str, ...] = ("BACK_ORDER_UPDATED",)) -> dict[str, Any]:
    data = await gql(CREATE, STAFF, input={"url": url, "events": list(events),
                                           "secret": SECRET})
    result: dict[str, Any] = data["createWebhookEndpoint"]
    assert result["__typename"] == "WebhookEndpointPayload", result
    return result["endpoint"]


async def drain(hooks: WebhookDispatcher) -> None:
    await hooks.drain()
    await asyncio.sleep(0.01)  # backoff of a millisecond: due again
    await hooks.drain()


async def test_a_change_reaches_the_endpoint_signed_and_verifiable(gql: Run, db: str) -> None:
    hook = await endpoint(gql)
    assert hook["events"] == ["BACK_ORDER_UPDATED"] and hook["enabled"]
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 2)
    receiver = Receiver()
    await dispatcher(receiver, db).drain()
    [(url, body, headers)] = receiver.got
    assert url == hook["url"]
    payload = Webhook(SECRET).verify(body, headers)
    assert payload["type"] == "back_order.updated"
    assert payload["data"]["id"] == int(bo["id"]) and payload["data"]["version"] == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace('"version":1', '"version":2'), headers)
    data = await gql(DELIVERIES, STAFF)
    [node] = [e["node"] for e in data["webhookDeliveries"]["edges"]]
    assert node["webhookId"] == headers["webhook-id"]
    assert node["status"] == "DELIVERED" and node["subject"] == bo["id"]
    assert node["attemptLog"] == [{"number": 1, "outcome": "DELIVERED", "statusCode": 200,
                                   "error": None}]


async def test_the_secret_is_never_readable(gql: Run, db: str) -> None:
    from tests.inprocess import schema
    await endpoint(gql)
    type_ = schema._schema.type_map["WebhookEndpoint"]
    assert not [name for name in type_.fields if "secret" in name.lower()
                and name != "previousSecretExpiresAt"]
    stored = await WebhookEndpoint.get()
    assert stored.secret == SECRET  # kept to sign with, never answered


BAD = [
    ({"url": "ftp://erp.example.com/x"}, "url"),
    ({"url": "https://user:pw@erp.example.com/x"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "https:///nohost"}, "url"),
    ({"url": "https://erp.example.com:99999/x"}, "url"),
    ({"url": "https://erp.example.com/" + "x" * 2000}, "url"),
    ({"events": []}, "events"),
    ({"secret": "k" * 40}, "secret"),
    ({"secret": "whsec_" + base64.b64encode(b"short").decode()}, "secret"),
    ({"secret": "whsec_not*base64!"}, "secret"),
    ({"description": "a\x00b"}, "description"),
]


@pytest.mark.parametrize(("change", "field_name"), BAD)
async def test_bad_input_is_a_typed_error_and_changes_nothing(
        gql: Run, db: str, change: dict[str, Any], field_name: str) -> None:
    good = {"url": "https://erp.example.com/hooks", "events": ["PRODUCT_UPDATED"],
            "secret": SECRET}
    data = await gql(CREATE, STAFF, input={**good, **change})
    result = data["createWebhookEndpoint"]
    assert result["__typename"] == "InvalidInputError", result
    assert result["field"] == field_name and result["code"] == "INVALID_INPUT"
    assert await WebhookEndpoint.all().count() == 0


async def test_an_unknown_event_is_refused_before_anything_runs(gql_result: Any,
                                                                db: str) -> None:
    result = await gql_result(CREATE, STAFF, input={
        "url": "https://erp.example.com/hooks", "events": ["ORDER_EATEN"], "secret": SECRET})
    assert result.errors and "ORDER_EATEN" in result.errors[0].message
    assert await WebhookEndpoint.all().count() == 0


async def test_customers_may_not_register_endpoints(gql: Run, db: str) -> None:
    data = await gql(CREATE, ALICE, input={"url": "https://x.example.com", "secret": SECRET,
                                           "events": ["PRODUCT_UPDATED"]})
    assert data["createWebhookEndpoint"]["code"] == "FORBIDDEN"


async def test_private_addresses_are_refused_where_not_allowed(db: str) -> None:
    from api.domain.errors import InvalidInput
    from api.domain.webhooks import WebhookEvent
    from api.services import webhooks
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x", "http://10.1.2.3/x",
                "http://169.254.169.254/latest", "http://[::1]/x", "http://[::ffff:10.0.0.1]/"):
        with pytest.raises(InvalidInput):
            await webhooks.create_endpoint(STAFF, url, [WebhookEvent.PRODUCT_UPDATED],
                                           SECRET, "", allow_private=False)
    assert await WebhookEndpoint.all().count() == 0
    await webhooks.create_endpoint(STAFF, "http://127.0.0.1:8080/x",
                                   [WebhookEvent.PRODUCT_UPDATED], SECRET, "",
                                   allow_private=True)


async def test_failures_retry_then_go_dead_and_staff_retry_them(gql: Run, db: str) -> None:
    hook = await endpoint(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    receiver = Receiver(answers={hook["url"]: 503})
    hooks = dispatcher(receiver, db, max_attempts=3)
    for _ in range(5):
        await drain(hooks)
    assert len(receiver.got) == 3
    assert len({headers["webhook-id"] for _, _, headers in receiver.got}) == 1
    data = await gql(DELIVERIES, STAFF, status=["DEAD"])
    [node] = [e["node"] for e in data["webhookDeliveries"]["edges"]]
    assert node["attempts"] == 3 and node["lastStatusCode"] == 503
    assert [a["outcome"] for a in node["attemptLog"]] == ["FAILED"] * 3
    receiver.answers.clear()
    retried = await gql(RETRY, STAFF, id=node["id"])
    assert retried["retryWebhookDelivery"]["delivery"]["status"] == "PENDING"
    await drain(hooks)
    assert len(receiver.got) == 4
    again = await gql(RETRY, STAFF, id=node["id"])
    assert again["retryWebhookDelivery"]["code"] == "INVALID_TRANSITION"


async def test_one_back_order_s_deliveries_keep_their_order(gql: Run, db: str) -> None:
    hook = await endpoint(gql)
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 1)
    receiver = Receiver(answers={hook["url"]: 500})
    hooks = dispatcher(receiver, db, backoff_base=60, backoff_cap=60)
    await hooks.drain()  # version 1 fails, and is due again in a minute
    cancel = 'mutation($id: ID!) { cancelBackOrder(id: $id) { __typename } }'
    await gql(cancel, ALICE, id=bo["id"])  # version 2 waits behind it
    await hooks.drain()
    assert [b["data"]["version"] for b in receiver.bodies(hook["url"])] == [1]
    receiver.answers.clear()
    await WebhookDelivery.all().update(due_at=utcnow())  # the minute has passed
    await hooks.drain()
    assert [b["data"]["version"] for b in receiver.bodies(hook["url"])] == [1, 1, 2]


async def test_an_endpoint_down_holds_back_no_other(gql: Run, db: str) -> None:
    down = await endpoint(gql, "https://down.example.com/")
    up = await endpoint(gql, "https://up.example.com/")
    await steps.product(gql, "KB")
    for _ in range(3):
        await steps.back_order(gql, ALICE, "KB", 1)
    receiver = Receiver(answers={down["url"]: None})
    await dispatcher(receiver, db, max_attempts=2).drain()
    assert len(receiver.bodies(up["url"])) == 3


async def test_a_hanging_endpoint_takes_only_its_own_slots(gql: Run, db: str) -> None:
    slow = await endpoint(gql, "https://slow.example.com/")
    fast = await endpoint(gql, "https://fast.example.com/")
    await steps.product(gql, "KB")
    for _ in range(6):
        await steps.back_order(gql, ALICE, "KB", 1)
    release = asyncio.Event()

    class Hanging(Receiver):
        async def post(self, url: str, body: str, headers: dict[str, str]) -> Response:
            if url == slow["url"]:
                await release.wait()
            return await super().post(url, body, headers)

    receiver = Hanging()
    hooks = dispatcher(receiver, db, concurrency=4, per_endpoint=2)
    for _ in range(4):
        await hooks.run_once()
        await asyncio.sleep(0.05)
    assert len(receiver.bodies(fast["url"])) == 6  # while two sends to slow hang
    release.set()
    await hooks.drain()
    assert len(receiver.bodies(slow["url"])) == 6


async def test_a_claim_whose_dispatcher_died_is_sent_again_with_the_same_id(
        gql: Run, db: str) -> None:
    await endpoint(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    dead = dispatcher(Receiver(), db, lease=timedelta(seconds=60))
    await dead.run_once()  # fans out and claims; its task is cancelled: the process "dies"
    for flight in dead._flight.values():
        assert flight.task is not None
        flight.task.cancel()
    await asyncio.gather(*(f.task for f in dead._flight.values() if f.task),
                         return_exceptions=True)
    row = await WebhookDelivery.get()
    assert row.status.value == "SENDING"
    await WebhookDelivery.filter(id=row.id).update(claimed_until=utcnow() - timedelta(1))
    receiver = Receiver()
    await dispatcher(receiver, db).drain()
    [(_, _, headers)] = receiver.got
    assert headers["webhook-id"] == f"msg_{row.id}"
    log = await WebhookAttempt.filter(delivery_id=row.id).order_by("id")
    assert [a.outcome for a in log] == ["UNKNOWN", "DELIVERED"]


async def test_stop_gives_back_unanswered_sends_logged_unknown(gql: Run, db: str) -> None:
    await endpoint(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)

    class Never(Receiver):
        async def post(self, url: str, body: str, headers: dict[str, str]) -> Response:
            await asyncio.Event().wait()
            raise AssertionError

    hooks = dispatcher(Never(), db)
    await hooks.run_once()
    await hooks.stop(grace=0.05)
    row = await WebhookDelivery.get()
    assert row.status.value == "PENDING" and row.claimed_by is None
    assert [a.outcome for a in await WebhookAttempt.all()] == ["UNKNOWN"]


async def test_a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends(
        gql: Run, db: str) -> None:
    hook = await endpoint(gql, events=("PRODUCT_UPDATED",))
    rotated = await gql(ROTATE, STAFF, id=hook["id"], secret=NEW_SECRET, hours=1)
    assert rotated["rotateWebhookSecret"]["endpoint"]["previousSecretExpiresAt"]
    same = await gql(ROTATE, STAFF, id=hook["id"], secret=NEW_SECRET, hours=1)
    assert same["rotateWebhookSecret"]["field"] == "secret"
    await steps.product(gql, "KB")
    await gql(ADJUST, STAFF)
    receiver = Receiver()
    hooks = dispatcher(receiver, db)
    await hooks.drain()
    _, body, headers = receiver.got[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(NEW_SECRET).verify(body, headers)
    Webhook(SECRET).verify(body, headers)
    await gql(ROTATE, STAFF, id=hook["id"], secret=SECRET, hours=0)
    await gql(ADJUST, STAFF)
    await hooks.drain()
    _, body, headers = receiver.got[-1]
    Webhook(SECRET).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW_SECRET).verify(body, headers)


async def test_update_pause_and_delete(gql: Run, db: str) -> None:
    hook = await endpoint(gql)
    paused = await gql(UPDATE, STAFF, id=hook["id"], input={"enabled": False,
                                                           "events": ["PRODUCT_UPDATED"]})
    assert paused["updateWebhookEndpoint"]["endpoint"] == {
        "url": hook["url"], "events": ["PRODUCT_UPDATED"], "enabled": False}
    bad = await gql(UPDATE, STAFF, id=hook["id"], input={"url": "gopher://x"})
    assert bad["updateWebhookEndpoint"]["field"] == "url"
    await steps.product(gql, "KB")
    await gql(ADJUST, STAFF)
    receiver = Receiver()
    await dispatcher(receiver, db).drain()
    assert receiver.got == []  # disabled: nothing made for it
    assert await OutboxEvent.filter(webhooks_at=None).count() == 0
    deleted = await gql(DELETE, STAFF, id=hook["id"])
    assert deleted["deleteWebhookEndpoint"]["deletedId"] == hook["id"]
    missing = await gql(DELETE, STAFF, id=hook["id"])
    assert missing["deleteWebhookEndpoint"]["code"] == "NOT_FOUND"


async def test_each_event_fans_out_once_to_each_endpoint(gql: Run, db: str) -> None:
    first = await endpoint(gql, "https://a.example.com/", ("BACK_ORDER_UPDATED",
                                                            "PRODUCT_UPDATED"))
    await endpoint(gql, "https://b.example.com/", ("PRODUCT_UPDATED",))
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    receiver = Receiver()
    hooks = dispatcher(receiver, db)
    await hooks.drain()
    await hooks.drain()
    products = await OutboxEvent.filter(topic="product").count()
    back_orders = await OutboxEvent.filter(topic="back_order").count()
    assert len(receiver.bodies(first["url"])) == products + back_orders
    assert len(receiver.got) == 2 * products + back_orders
    ids = [headers["webhook-id"] for _, _, headers in receiver.got]
    assert len(set(ids)) == len(ids)


async def test_the_instance_exporting_the_gauges_still_fans_out(gql: Run, db: str) -> None:
    """The metrics leadership and the fan-out are two locks: the instance that answers
    ``/metrics`` (and holds the first, on a connection of its own) still writes deliveries."""
    hook = await endpoint(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    gauges = Leadership(db)
    try:
        assert await gauges.held()
        receiver = Receiver()
        await dispatcher(receiver, db).drain()
        assert len(receiver.bodies(hook["url"])) == 1
        assert await OutboxEvent.filter(webhooks_at=None).count() == 0
    finally:
        await gauges.release()
