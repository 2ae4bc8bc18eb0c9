"""Who may do what: every query, mutation and subscription, as four people.

A field added to the schema without a row here fails ``test_every_operation_has_a_row``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import GraphQLError

from api.domain.identity import Actor
from api.graphql.context import Context
from api.realtime.hub import Hub
from api.settings import Settings
from tests.inprocess import schema
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.test_ordering import in_days

ACTORS: dict[str, Actor | None] = {"anonymous": None, "alice": ALICE, "bob": BOB,
                                   "staff": STAFF}
A, D = "allowed", "denied"
# operation -> (document, outcome for anonymous, alice (the owner), bob, staff)
QUERIES = {
    "product": ('{ product(sku: "KB") { sku } }', A, A, A, A),
    "products": ("{ products { totalCount } }", A, A, A, A),
    "backOrder": ('{ backOrder(id: "{bo}") { id } }', D, A, D, A),
    "backOrders": ("{ backOrders { totalCount } }", D, A, A, A),
    "order": ('{ order(id: "{order}") { id } }', D, A, D, A),
    "viewer": ("{ viewer { id } }", D, A, A, A),
    "restocks": ('{ restocks(sku: "KB") { id } }', A, A, A, A),
    "expiringAuthorizations": ("{ expiringAuthorizations { id } }", D, D, D, A),
    "notifications": ("{ notifications { totalCount } }", D, D, D, A),
    "waitlistEntries": ("{ waitlistEntries { totalCount } }", D, A, A, A),
    "webhookEndpoints": ("{ webhookEndpoints { totalCount } }", D, D, D, A),
    "webhookDeliveries": ("{ webhookDeliveries { totalCount } }", D, D, D, A),
    "demandReport": ('{ demandReport(from: "2026-01-01", to: "2026-01-31") { from } }',
                     D, D, D, A),
    "demandForecast": ('{ demandForecast(sku: "KB", days: 3) { method } }', D, D, D, A),
    "reorderSuggestion": ('{ reorderSuggestion(sku: "KB") { quantity } }', D, D, D, A),
}
R = "{ __typename }"
MUTATIONS = {
    "createProduct": ('mutation { createProduct(input: {sku: "NEW", name: "N", price: "1"}) '
                      + R + " }", D, D, D, A),
    "updateBackorderPolicy": ('mutation { updateBackorderPolicy(sku: "KB", input: '
                              "{leadTimeDays: 3}) " + R + " }", D, D, D, A),
    "adjustStock": ('mutation { adjustStock(sku: "KB", delta: 1) ' + R + " }", D, D, D, A),
    "releaseProduct": ('mutation { releaseProduct(sku: "KB") ' + R + " }", D, D, D, A),
    "scheduleRestock": ('mutation { scheduleRestock(input: {sku: "KB", quantity: 1, '
                        'expectedDate: "{date}"}) ' + R + " }", D, D, D, A),
    "rescheduleRestock": ('mutation { rescheduleRestock(id: "{restock}", quantity: 9) '
                          + R + " }", D, D, D, A),
    "receiveRestock": ('mutation { receiveRestock(id: "{restock}") ' + R + " }", D, D, D, A),
    "cancelRestock": ('mutation { cancelRestock(id: "{restock}") ' + R + " }", D, D, D, A),
    "placeOrder": ('mutation { placeOrder(input: {lines: [{sku: "KB", quantity: 1}], '
                   'idempotencyKey: "m"}) ' + R + " }", D, A, A, A),
    "cancelBackOrder": ('mutation { cancelBackOrder(id: "{bo}") ' + R + " }", D, A, D, A),
    "shipBackOrder": ('mutation { shipBackOrder(id: "{bo}") ' + R + " }", D, D, D, A),
    "setBackOrderPriority": ('mutation { setBackOrderPriority(id: "{bo}", priority: 5, '
                             'reason: "vip") ' + R + " }", D, D, D, A),
    "setBackOrderCancelBy": ('mutation { setBackOrderCancelBy(id: "{bo}", cancelBy: null) '
                             + R + " }", D, A, D, A),
    "acceptDelay": ('mutation { acceptDelay(id: "{bo}") ' + R + " }", D, A, D, A),
    "renewAuthorization": ('mutation { renewAuthorization(id: "{bo}") ' + R + " }",
                           D, D, D, A),
    "shipAllocatedUnits": ('mutation { shipAllocatedUnits(id: "{bo}") ' + R + " }",
                           D, D, D, A),
    "setOrderShipping": ('mutation { setOrderShipping(id: "{order}", shipping: SHIP_TOGETHER) '
                         + R + " }", D, A, D, A),
    "shipOrderLine": ('mutation { shipOrderLine(id: "{line}") ' + R + " }", D, D, D, A),
    "setNotificationPreferences": ("mutation { setNotificationPreferences(input: "
                                   '{email: "x@example.com"}) ' + R + " }", D, A, A, A),
    "revokeTokens": ('mutation { revokeTokens(subject: "bob") ' + R + " }", D, D, D, A),
    "retryNotification": ('mutation { retryNotification(id: "{notification}") ' + R + " }",
                          D, D, D, A),
    "createWebhookEndpoint": ('mutation { createWebhookEndpoint(input: {url: '
                              '"https://erp.example.com/h", events: [PRODUCT_UPDATED], '
                              'secret: "{secret}"}) ' + R + " }", D, D, D, A),
    "updateWebhookEndpoint": ('mutation { updateWebhookEndpoint(id: "{endpoint}", input: '
                              "{enabled: false}) " + R + " }", D, D, D, A),
    "rotateWebhookSecret": ('mutation { rotateWebhookSecret(id: "{endpoint}", secret: '
                            '"{secret2}") ' + R + " }", D, D, D, A),
    "deleteWebhookEndpoint": ('mutation { deleteWebhookEndpoint(id: "{endpoint}") ' + R
                              + " }", D, D, D, A),
    "retryWebhookDelivery": ('mutation { retryWebhookDelivery(id: "{delivery}") ' + R + " }",
                             D, D, D, A),
    "joinWaitlist": ('mutation { joinWaitlist(sku: "PS") ' + R + " }", D, A, A, A),
    "leaveWaitlist": ('mutation { leaveWaitlist(id: "{entry}") ' + R + " }", D, A, D, A),
    # (Alice's entry holds nothing: her claim is a typed refusal, not a denial.)
    "claimHold": ('mutation { claimHold(id: "{entry}") ' + R + " }", D, A, D, A),
    # Only the owner rates a wait (it has not shipped: a typed refusal, not a denial).
    "rateWait": ('mutation { rateWait(backOrderId: "{bo}", rating: 5) ' + R + " }",
                 D, A, D, D),
}
SUBSCRIPTIONS = {
    "backOrderUpdated": ('subscription { backOrderUpdated(id: "{bo}") { id } }', D, A, D, A),
    "myBackOrders": ("subscription { myBackOrders { id } }", D, A, A, A),
    "productStockChanged": ('subscription { productStockChanged(sku: "KB") { sku } }',
                            A, A, A, A),
    "backOrderQueue": ('subscription { backOrderQueue(sku: "KB") { id } }', D, D, D, A),
}
DENIED_TYPES = {"ForbiddenError", "NotFoundError"}
DENIED_CODES = {"FORBIDDEN", "NOT_FOUND"}


def test_every_operation_has_a_row() -> None:
    sdl = schema._schema
    assert set(sdl.query_type.fields) == set(QUERIES)  # type: ignore[union-attr]
    assert set(sdl.mutation_type.fields) == set(MUTATIONS)  # type: ignore[union-attr]
    assert set(sdl.subscription_type.fields) == set(SUBSCRIPTIONS)  # type: ignore[union-attr]


async def _given(gql: Run) -> dict[str, str]:
    await steps.product(gql, "KB", on_hand=1)
    placed = await steps.order(gql, ALICE, "KB", 2)
    restock = await steps.restock(gql, "KB", 5, in_days(3))
    from api.store.models import OrderLine
    line = await OrderLine.get(order_id=int(placed["order"]["id"]))
    set_aside = await _set_aside_message()
    endpoint, delivery = await _dead_delivery()
    await steps.product(gql, "PS", allowBackorders=False)  # sold out: it has a waitlist
    from api.services import waitlist
    entry = await waitlist.join(ALICE, "PS", 1)
    return {"entry": str(entry.id),"endpoint": str(endpoint), "delivery": str(delivery),
            "secret": "whsec_" + "A" * 32, "secret2": "whsec_" + "B" * 32,
            "bo": placed["order"]["backOrders"][0]["id"], "order": placed["order"]["id"],
            "restock": restock, "line": str(line.id), "date": in_days(5),
            "notification": str(set_aside)}


async def _set_aside_message() -> int:
    """A message the dispatcher set aside (a template that would not render)."""
    from api.domain.model import NotificationStatus
    from api.services.clock import utcnow
    from api.store.models import Notification
    row = await Notification.create(
        customer_id="alice", event="PLACED", channel="EMAIL", address="alice@example.com",
        status=NotificationStatus.SET_ASIDE, set_aside="template", attempts=1,
        due_at=utcnow(), created_at=utcnow())
    return row.id


async def _dead_delivery() -> tuple[int, int]:
    """An endpoint, and a delivery of it that is DEAD."""
    from api.domain.webhooks import DeliveryStatus
    from api.services.clock import utcnow
    from api.store.models import WebhookDelivery, WebhookEndpoint
    endpoint = await WebhookEndpoint.create(
        url="https://erp.example.com/h", events=["PRODUCT_UPDATED"], secret="whsec_" + "C" * 32,
        created_by="staff-1", created_at=utcnow())
    delivery = await WebhookDelivery.create(
        endpoint_id=endpoint.id, event_id=1, event_type="product.updated", topic="product",
        key="KB", body="{}", status=DeliveryStatus.DEAD, attempts=3, due_at=utcnow(),
        created_at=utcnow())
    return endpoint.id, delivery.id


def _fill(document: str, ids: dict[str, str]) -> str:
    for key, value in ids.items():
        document = document.replace("{" + key + "}", value)
    return document


def _outcome(data: dict[str, Any] | None, errors: list[GraphQLError] | None,
             field: str) -> str:
    if errors:
        codes = {(e.extensions or {}).get("code") for e in errors}
        assert codes <= DENIED_CODES, errors  # anything else is a bug, not a refusal
        return D
    value = (data or {}).get(field)
    if value is None:
        return D
    if isinstance(value, dict) and value.get("__typename") in DENIED_TYPES:
        return D
    return A


CASES = [(kind, name, who, row[1 + index])
         for kind, table in (("query", QUERIES), ("mutation", MUTATIONS),
                             ("subscription", SUBSCRIPTIONS))
         for name, row in table.items()
         for index, who in enumerate(ACTORS)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("kind", "name", "who", "expected"), CASES,
                         ids=[f"{c[1]}-{c[2]}" for c in CASES])
async def test_who_may_do_what(gql: Run, kind: str, name: str, who: str,
                               expected: str) -> None:
    ids = await _given(gql)
    table = {"query": QUERIES, "mutation": MUTATIONS, "subscription": SUBSCRIPTIONS}[kind]
    document = _fill(table[name][0], ids)
    context = Context(ACTORS[who], Settings(), hub=Hub())
    if kind == "subscription":
        stream = await schema.subscribe(document, context_value=context)
        try:
            result = await asyncio.wait_for(stream.__anext__(), 1)  # type: ignore[union-attr]
        except TimeoutError:  # subscribed, and nothing to say yet (bob has no back orders)
            assert expected == A
            return
        finally:
            await stream.aclose()  # type: ignore[union-attr]
    else:
        result = await schema.execute(document, context_value=context)
    assert _outcome(result.data, result.errors, name) == expected
