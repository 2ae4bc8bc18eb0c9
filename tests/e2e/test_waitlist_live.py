"""Notify-me holds on a running service (PostgreSQL, a real SMTP sink): two customers join
the waitlist of a sold-out console, one unit comes in, the first is emailed a hold with its
claim link; her hold runs out (its end moved into the past in the database), the sweeper
passes it to the second, who is emailed and claims it as an order at the held price."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql, until
from tests.sinks import SmtpSink

CREATE = """mutation { createProduct(input: {sku: "PS", name: "Console", price: "400.00",
  policy: {allowBackorders: false}}) { __typename } }"""
PREFS = """mutation($email: String!) { setNotificationPreferences(input: {email: $email,
  channels: [EMAIL]}) { __typename } }"""
JOIN = """mutation { joinWaitlist(sku: "PS") { __typename
  ... on WaitlistEntryPayload { entry { id status } } } }"""
RECEIVE = """mutation { adjustStock(sku: "PS", delta: 1, reason: "delivery") { __typename } }"""
CLAIM = """mutation($id: ID!) { claimHold(id: $id) { __typename
  ... on ClaimHoldPayload { order { id amountCharged { amount } lines { allocatedQuantity } } }
  ... on Error { code message } } }"""
ENTRY = """query { waitlistEntries { edges { node { id status heldQuantity } } } }"""


async def test_a_hold_is_emailed_expires_passes_on_and_is_claimed(
        pg_database: str, smtp: SmtpSink, tmp_path: Path) -> None:
    server = ServerProcess(pg_database, tmp_path / "server.log",
                           BACKORDERS_NOTIFY_EMAIL_URL=smtp.url(),
                           BACKORDERS_SWEEP_SECONDS="0.2",
                           BACKORDERS_PUBLIC_URL="https://shop.example.com")
    db = await asyncpg.connect(pg_database.replace("postgres://", "postgresql://"))
    try:
        staff = server.token("staff", Role.STAFF)
        alice, bob = server.token("alice"), server.token("bob")
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await graphql(client, CREATE, staff)
            entries = {}
            for name, token in (("alice", alice), ("bob", bob)):
                await graphql(client, PREFS, token, email=f"{name}@example.com")
                joined = (await graphql(client, JOIN, token))["joinWaitlist"]
                assert joined["entry"]["status"] == "WAITING", joined
                entries[name] = joined["entry"]["id"]
            await graphql(client, RECEIVE, staff)

            await until(lambda: len(smtp.to("alice@example.com")) == 1)
            [offer] = smtp.to("alice@example.com")
            assert offer["Subject"] == "Console is back: one is held for you"
            text = offer.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert f"https://shop.example.com/waitlist/{entries['alice']}" in text
            assert "400.00 USD" in text
            assert smtp.to("bob@example.com") == []

            # Her hold runs out: the sweeper passes it to Bob, and both are told.
            await db.execute("UPDATE waitlist_entry SET hold_expires_at = now() - interval"
                             " '1 minute' WHERE status = 'HOLDING'")
            await until(lambda: len(smtp.to("bob@example.com")) == 1
                         and len(smtp.to("alice@example.com")) == 2)
            assert smtp.to("alice@example.com")[1]["Subject"] == (
                "Your hold on Console has ended")
            assert smtp.to("bob@example.com")[0]["Subject"] == (
                "Console is back: one is held for you")
            late = (await graphql(client, CLAIM, alice, id=entries["alice"]))["claimHold"]
            assert late["code"] == "INVALID_TRANSITION"

            claimed = (await graphql(client, CLAIM, bob, id=entries["bob"]))["claimHold"]
            assert claimed["__typename"] == "ClaimHoldPayload", claimed
            assert claimed["order"]["amountCharged"]["amount"] == "400.00"
            assert claimed["order"]["lines"] == [{"allocatedQuantity": 1}]
            mine = (await graphql(client, ENTRY, bob))["waitlistEntries"]["edges"]
            assert [e["node"]["status"] for e in mine] == ["CLAIMED"]
            await asyncio.sleep(1)  # more sweeps: nothing more is sent
            assert len(smtp.messages) == 3
    finally:
        await db.close()
        server.stop()
