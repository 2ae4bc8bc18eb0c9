"""Shipping in parts on a running service (PostgreSQL, a real SMTP sink): two of three
keyboards arrive and ship, the customer is emailed what shipped and that the rest keeps its
place; the last one arrives and ships, and the email says it is the rest."""

from __future__ import annotations

from pathlib import Path

import httpx

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql, until
from tests.sinks import SmtpSink

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "50.00"})
  { __typename } }"""
PREFS = """mutation { setNotificationPreferences(input: {email: "alice@example.com",
  channels: [EMAIL], events: [PARTIALLY_SHIPPED, SHIPPED]}) { __typename } }"""
PLACE = """mutation { placeOrder(input: {lines: [{sku: "KB", quantity: 3}],
  idempotencyKey: "k"}) { ... on PlaceOrderPayload { order { backOrders { id } } } } }"""
COUNT = """mutation($n: Int!) { adjustStock(sku: "KB", delta: $n, reason: "delivery")
  { __typename } }"""
PART = """mutation($id: ID!) { shipAllocatedUnits(id: $id, trackingCode: "P1") { __typename
  ... on BackOrderPayload { backOrder { status shippedQuantity queuePosition } } } }"""
REST = """mutation($id: ID!) { shipBackOrder(id: $id, trackingCode: "P2") { __typename
  ... on BackOrderPayload { backOrder { status shippedQuantity
    shipments { units trackingCode } } } } }"""


def _text(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined, no-any-return]


async def test_a_back_order_ships_in_two_parcels_and_the_customer_hears_of_each(
        pg_database: str, smtp: SmtpSink, tmp_path: Path) -> None:
    server = ServerProcess(pg_database, tmp_path / "server.log",
                           BACKORDERS_NOTIFY_EMAIL_URL=smtp.url())
    try:
        staff, alice = server.token("staff", Role.STAFF), server.token("alice")
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await graphql(client, CREATE, staff)
            await graphql(client, PREFS, alice)
            bo = (await graphql(client, PLACE, alice))["placeOrder"]["order"]["backOrders"][0]
            await graphql(client, COUNT, staff, n=2)
            part = (await graphql(client, PART, staff, id=bo["id"]))["shipAllocatedUnits"]
            assert part["backOrder"] == {"status": "PARTIALLY_ALLOCATED", "shippedQuantity": 2,
                                         "queuePosition": 1}
            await until(lambda: len(smtp.messages) == 1)
            first = smtp.messages[0]
            assert first["Subject"] == "Part of your Keyboard order has shipped"
            assert _text(first).startswith("2 of your 3 x Keyboard (KB) shipped today "
                                           "(tracking code P1).")
            assert "The other unit stays in line for you: you are number 1" in _text(first)

            await graphql(client, COUNT, staff, n=1)
            rest = (await graphql(client, REST, staff, id=bo["id"]))["shipBackOrder"]
            assert rest["backOrder"]["shipments"] == [{"units": 2, "trackingCode": "P1"},
                                                      {"units": 1, "trackingCode": "P2"}]
            await until(lambda: len(smtp.messages) == 2)
            last = smtp.messages[1]
            assert last["Subject"] == "Your Keyboard has shipped"
            assert "This parcel has the remaining 1 unit; the others shipped earlier." in (
                _text(last))
    finally:
        server.stop()
