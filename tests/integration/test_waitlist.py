"""Notify-me lists and holds (issue 16, part 1) on SQLite and PostgreSQL: joining only an
out-of-stock product, freed units held in join order (after the back orders), a hold that
nobody else can take, claimed at the held price once, expiring or left and passing on, each
scheduled step done exactly once however many sweeps run."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from api.domain.identity import Actor, Role
from api.domain.model import WaitlistStatus
from api.graphql.queries import parse_id
from api.scheduling.sweeper import Sweeper
from api.services import waitlist
from api.store.models import Notification, Order, OrderLine, Product, WaitlistEntry
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import ADJUST_STOCK, UPDATE_POLICY
from tests.integration.test_queries import SET_PREFERENCES

CAROL = Actor("carol", Role.CUSTOMER)
DAVE = Actor("dave", Role.CUSTOMER)

ENTRY = "id status quantity heldQuantity heldPrice { amount } holdExpiresAt closedAt version"
JOIN = f"""
mutation($sku: String!, $quantity: Int!, $customerId: String) {{
  joinWaitlist(sku: $sku, quantity: $quantity, customerId: $customerId) {{
    __typename
    ... on WaitlistEntryPayload {{ entry {{ {ENTRY} product {{ sku }} customer {{ id }} }} }}
    ... on Error {{ code message }}
    ... on InvalidInputError {{ field }}
    ... on InvalidTransitionError {{ fromStatus toStatus }}
  }}
}}"""
LEAVE = f"""
mutation($id: ID!) {{
  leaveWaitlist(id: $id) {{
    __typename
    ... on WaitlistEntryPayload {{ entry {{ {ENTRY} }} }}
    ... on Error {{ code message }}
    ... on InvalidTransitionError {{ fromStatus toStatus }}
  }}
}}"""
CLAIM = f"""
mutation($id: ID!) {{
  claimHold(id: $id) {{
    __typename
    ... on ClaimHoldPayload {{
      replayed
      entry {{ {ENTRY} order {{ id }} }}
      order {{ id amountCharged {{ amount }}
              lines {{ quantity allocatedQuantity backorderedQuantity
                      unitPrice {{ amount }} }} }}
    }}
    ... on Error {{ code message }}
    ... on InvalidTransitionError {{ fromStatus toStatus }}
  }}
}}"""
ENTRIES = f"""
query($sku: String, $status: [WaitlistStatus!]) {{
  waitlistEntries(sku: $sku, status: $status, first: 100) {{
    totalCount
    edges {{ node {{ {ENTRY} customer {{ id }} }} }}
  }}
}}"""
STOCK = """query($sku: String!) {
  product(sku: $sku) { availability stock { onHand allocated held available } }
}"""


async def _emails(gql: Run, *who: Actor) -> None:
    for actor in who:
        await gql(SET_PREFERENCES, actor, input={
            "email": f"{actor.subject}@example.com", "channels": ["EMAIL"]})


async def _sold_out(gql: Run, sku: str = "CONSOLE", price: str = "400.00") -> None:
    """A product that does not take back orders, with nothing in stock."""
    await steps.product(gql, sku, price=price, allowBackorders=False)


async def _join(gql: Run, actor: Actor, quantity: int = 1, sku: str = "CONSOLE"
                ) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(JOIN, actor, sku=sku, quantity=quantity))["joinWaitlist"]
    return result


async def _entry(entry_id: str) -> WaitlistEntry:
    return await WaitlistEntry.get(id=parse_id(entry_id))


async def _stock(gql: Run, sku: str = "CONSOLE") -> dict[str, Any]:
    product: dict[str, Any] = (await gql(STOCK, sku=sku))["product"]
    return product


async def _receive(gql: Run, units: int, sku: str = "CONSOLE") -> None:
    data = await gql(ADJUST_STOCK, STAFF, sku=sku, delta=units)
    assert data["adjustStock"]["__typename"] == "ProductPayload", data


async def test_only_an_out_of_stock_product_has_a_waitlist(gql: Run) -> None:
    await steps.product(gql, "MUG", on_hand=50)
    await steps.product(gql, "KB")  # back orders allowed: it can be ordered
    await steps.product(gql, "CAPPED", backorderCap=0)
    await _sold_out(gql)

    in_stock = await _join(gql, ALICE, sku="MUG")
    assert (in_stock["__typename"], in_stock["fromStatus"]) == ("InvalidTransitionError",
                                                                "IN_STOCK")
    backorderable = await _join(gql, ALICE, sku="KB")
    assert backorderable["fromStatus"] == "BACKORDERABLE"
    capped = await _join(gql, ALICE, sku="CAPPED")
    assert capped["__typename"] == "WaitlistEntryPayload"
    joined = await _join(gql, ALICE, 2)
    assert joined["entry"]["status"] == "WAITING"
    assert joined["entry"]["customer"]["id"] == "alice"
    assert (joined["entry"]["heldQuantity"], joined["entry"]["holdExpiresAt"]) == (0, None)
    # Joining again answers the same entry, unchanged.
    again = await _join(gql, ALICE, 5)
    assert again["entry"]["id"] == joined["entry"]["id"]
    assert again["entry"]["quantity"] == 2
    assert await WaitlistEntry.filter(product__sku="CONSOLE").count() == 1


async def test_bad_joins_get_typed_errors_and_change_nothing(gql: Run, gql_result: Any
                                                             ) -> None:
    await _sold_out(gql)
    assert (await _join(gql, ALICE, 0))["field"] == "quantity"
    assert (await _join(gql, ALICE, 100_001))["field"] == "quantity"
    assert (await _join(gql, ALICE, sku="NOPE"))["code"] == "NOT_FOUND"
    assert (await _join(gql, ALICE, -1))["__typename"] == "InvalidInputError"
    anonymous = await gql(JOIN, None, sku="CONSOLE", quantity=1)
    assert anonymous["joinWaitlist"]["code"] == "FORBIDDEN"
    for_bob = await gql(JOIN, ALICE, sku="CONSOLE", quantity=1, customerId="bob")
    assert for_bob["joinWaitlist"]["code"] == "FORBIDDEN"
    assert await WaitlistEntry.all().count() == 0
    by_staff = await gql(JOIN, STAFF, sku="CONSOLE", quantity=1, customerId="bob")
    assert by_staff["joinWaitlist"]["entry"]["customer"]["id"] == "bob"
    unknown = await gql(LEAVE, ALICE, id="999")
    assert unknown["leaveWaitlist"]["code"] == "NOT_FOUND"
    not_hers = await gql(CLAIM, ALICE, id=by_staff["joinWaitlist"]["entry"]["id"])
    assert not_hers["claimHold"]["code"] == "NOT_FOUND"
    bad_id = await gql(CLAIM, ALICE, id="x")
    assert bad_id["claimHold"]["__typename"] == "InvalidInputError"
    # A claim's order has a key of the service's own: a client cannot take it first.
    await steps.product(gql, "MUG", on_hand=50)
    taken = await steps.order(gql, ALICE, "MUG", 1, key="waitlist-hold-1")
    assert (taken["__typename"], taken["field"]) == ("InvalidInputError", "idempotencyKey")


async def test_freed_units_are_held_in_join_order_and_nobody_else_can_take_them(
        gql: Run) -> None:
    await _emails(gql, ALICE, BOB, CAROL)
    await _sold_out(gql)
    alice, bob, carol = [await _join(gql, who, n) for who, n in ((ALICE, 2), (BOB, 2),
                                                                  (CAROL, 1))]
    await _receive(gql, 3)

    held = [await _entry(e["entry"]["id"]) for e in (alice, bob, carol)]
    assert [(e.status, e.held) for e in held] == [
        (WaitlistStatus.HOLDING, 2), (WaitlistStatus.HOLDING, 1), (WaitlistStatus.WAITING, 0)]
    assert held[0].held_price == Decimal("400.00")
    stock = await _stock(gql)
    assert stock["stock"] == {"onHand": 3, "allocated": 0, "held": 3, "available": 0}
    assert stock["availability"] == "OUT_OF_STOCK"
    # Dave cannot buy a held unit.
    refused = await steps.order(gql, DAVE, "CONSOLE", 1)
    assert refused["__typename"] == "OutOfStockError"
    # Alice and Bob are told; Carol is not.
    offered = await Notification.filter(event="HOLD_OFFERED").order_by("id")
    assert [(n.customer_id, n.data["held"], n.data["wanted"]) for n in offered] == [
        ("alice", 2, 2), ("bob", 1, 2)]
    assert offered[0].back_order_id is None
    assert offered[0].address == "alice@example.com"
    # A customer sees their own entries only.
    mine = (await gql(ENTRIES, BOB))["waitlistEntries"]
    assert [e["node"]["customer"]["id"] for e in mine["edges"]] == ["bob"]
    everyone = (await gql(ENTRIES, STAFF, status=["HOLDING"]))["waitlistEntries"]
    assert everyone["totalCount"] == 2


async def test_back_orders_come_before_waitlisters(gql: Run) -> None:
    await steps.product(gql, "CONSOLE", backorderCap=1)
    waiting = await steps.back_order(gql, BOB, "CONSOLE", 1)
    entry = await _join(gql, ALICE, 3)  # the cap is reached: out of stock
    assert entry["__typename"] == "WaitlistEntryPayload"
    await _receive(gql, 2)
    row = await _entry(entry["entry"]["id"])
    assert (row.status, row.held) == (WaitlistStatus.HOLDING, 1)
    data = await gql("query($id: ID!) { backOrder(id: $id) { status } }", STAFF,
                     id=waiting["id"])
    assert data["backOrder"]["status"] == "ALLOCATED"
    assert (await _stock(gql))["stock"] == {"onHand": 2, "allocated": 1, "held": 1,
                                            "available": 0}


async def test_a_claim_is_an_order_at_the_held_price_once(gql: Run) -> None:
    await _emails(gql, ALICE)
    await _sold_out(gql)
    entry = (await _join(gql, ALICE, 2))["entry"]
    await _receive(gql, 5)
    await Product.filter(sku="CONSOLE").update(price=Decimal("450.00"))  # a price rise

    claims = await asyncio.gather(*(gql(CLAIM, ALICE, id=entry["id"]) for _ in range(3)))
    payloads = [c["claimHold"] for c in claims]
    assert {p["__typename"] for p in payloads} == {"ClaimHoldPayload"}, payloads
    assert sorted(p["replayed"] for p in payloads) == [False, True, True]
    assert len({p["order"]["id"] for p in payloads}) == 1
    claimed = payloads[0]
    assert claimed["entry"]["status"] == "CLAIMED"
    assert claimed["entry"]["heldQuantity"] == 0  # (they are the order's now)
    assert claimed["entry"]["order"]["id"] == claimed["order"]["id"]
    assert claimed["order"]["amountCharged"]["amount"] == "800.00"
    assert claimed["order"]["lines"] == [{"quantity": 2, "allocatedQuantity": 2,
                                          "backorderedQuantity": 0,
                                          "unitPrice": {"amount": "400.00"}}]
    assert await Order.all().count() == 1
    assert (await _stock(gql))["stock"] == {"onHand": 5, "allocated": 2, "held": 0,
                                            "available": 3}
    # The offer had not gone out yet: claimed, it is moot.
    [offer] = await Notification.filter(event="HOLD_OFFERED")
    assert (offer.status.value, offer.last_error) == ("SUPPRESSED", "the hold was claimed")
    # A claimed hold cannot be left.
    left = await gql(LEAVE, ALICE, id=entry["id"])
    assert (left["leaveWaitlist"]["fromStatus"], left["leaveWaitlist"]["toStatus"]) == (
        "CLAIMED", "LEFT")


async def test_a_hold_past_its_time_cannot_be_claimed_and_changes_nothing(gql: Run) -> None:
    await _sold_out(gql)
    entry = (await _join(gql, ALICE))["entry"]
    await _receive(gql, 1)
    row = await _entry(entry["id"])
    assert row.hold_expires_at is not None
    try:
        await waitlist.claim(ALICE, row.id, "USD", now=row.hold_expires_at)
    except Exception as exc:
        assert type(exc).__name__ == "InvalidTransition"
        assert str(exc) == "waitlist entry cannot go from EXPIRED to CLAIMED"
    else:
        raise AssertionError("an expired hold was claimed")
    assert await Order.all().count() == 0
    assert (await _entry(entry["id"])).status is WaitlistStatus.HOLDING  # for the sweep
    waiting = (await _join(gql, BOB))["entry"]
    early = await gql(CLAIM, BOB, id=waiting["id"])
    assert (early["claimHold"]["fromStatus"], early["claimHold"]["toStatus"]) == (
        "WAITING", "CLAIMED")


async def test_an_expired_hold_passes_on_in_order_once(gql: Run) -> None:
    await _emails(gql, ALICE, BOB, CAROL)
    await _sold_out(gql)
    entries = [(await _join(gql, who))["entry"] for who in (ALICE, BOB, CAROL)]
    await _receive(gql, 1)
    first = await _entry(entries[0]["id"])
    assert first.hold_expires_at is not None
    sweeper = Sweeper(60, None)

    # Before its time, nothing expires; two sweeps after it: one expiry, one pass-on.
    assert (await sweeper.run_once(first.hold_expires_at - timedelta(seconds=1))
            ).holds_expired == 0
    swept = await asyncio.gather(sweeper.run_once(first.hold_expires_at),
                                 sweeper.run_once(first.hold_expires_at))
    assert sum(s.holds_expired for s in swept) == 1
    rows = [await _entry(e["id"]) for e in entries]
    assert [r.status for r in rows] == [WaitlistStatus.EXPIRED, WaitlistStatus.HOLDING,
                                        WaitlistStatus.WAITING]
    assert rows[0].held == 0
    assert rows[1].hold_expires_at is not None and rows[1].hold_expires_at > (
        first.hold_expires_at)
    [expired] = await Notification.filter(event="HOLD_EXPIRED")
    assert (expired.customer_id, expired.data["held"]) == ("alice", 1)
    assert [n.customer_id for n in await Notification.filter(event="HOLD_OFFERED")
            .order_by("id")] == ["alice", "bob"]
    assert (await _stock(gql))["stock"]["held"] == 1


async def test_a_holder_is_reminded_once_before_the_hold_ends(gql: Run) -> None:
    await _emails(gql, ALICE)
    await _sold_out(gql)
    entry = (await _join(gql, ALICE))["entry"]
    await _receive(gql, 1)
    row = await _entry(entry["id"])
    assert row.hold_expires_at is not None
    sweeper = Sweeper(60, None)
    early = row.hold_expires_at - timedelta(minutes=121)
    assert (await sweeper.run_once(early)).holds_reminded == 0
    soon = row.hold_expires_at - timedelta(minutes=119)
    swept = await asyncio.gather(sweeper.run_once(soon), sweeper.run_once(soon))
    assert sum(s.holds_reminded for s in swept) == 1
    assert (await sweeper.run_once(soon + timedelta(minutes=5))).holds_reminded == 0
    [reminder] = await Notification.filter(event="HOLD_EXPIRING")
    assert reminder.customer_id == "alice"
    assert reminder.data["hold_expires_at"] == row.hold_expires_at.strftime(
        "%Y-%m-%d %H:%M UTC")


async def test_leaving_with_a_hold_passes_it_on(gql: Run) -> None:
    await _sold_out(gql)
    alice = (await _join(gql, ALICE, 2))["entry"]
    bob = (await _join(gql, BOB, 1))["entry"]
    await _receive(gql, 2)
    left = await gql(LEAVE, ALICE, id=alice["id"])
    assert left["leaveWaitlist"]["entry"]["status"] == "LEFT"
    assert left["leaveWaitlist"]["entry"]["heldQuantity"] == 0
    again = await gql(LEAVE, ALICE, id=alice["id"])
    assert again["leaveWaitlist"]["entry"]["version"] == left["leaveWaitlist"]["entry"][
        "version"]
    assert (await _entry(bob["id"])).held == 1
    # One unit left over: free for anyone now that nobody waits.
    assert (await _stock(gql))["stock"] == {"onHand": 2, "allocated": 0, "held": 1,
                                            "available": 1}
    assert (await steps.order(gql, DAVE, "CONSOLE", 1))["__typename"] == "PlaceOrderPayload"


async def test_many_waitlisters_few_units_concurrent_claims(gql: Run) -> None:
    """100 waitlisters, 10 units received, 40 concurrent claims: exactly 10 orders from
    holds, no unit held twice; then expired holds pass on in join order."""
    await _sold_out(gql)
    people = [Actor(f"w{n:03}", Role.CUSTOMER) for n in range(100)]
    ids = [(await _join(gql, who))["entry"]["id"] for who in people]
    await _receive(gql, 10)
    holding = await WaitlistEntry.filter(status=WaitlistStatus.HOLDING).order_by("id")
    assert [e.id for e in holding] == [parse_id(i) for i in ids[:10]]

    claims = await asyncio.gather(*(gql(CLAIM, who, id=entry)
                                    for who, entry in zip(people[:40], ids[:40], strict=True)))
    outcomes = [c["claimHold"]["__typename"] for c in claims]
    assert outcomes.count("ClaimHoldPayload") == 10
    assert outcomes[:10] == ["ClaimHoldPayload"] * 10
    assert {c["claimHold"]["fromStatus"] for c in claims[10:]} == {"WAITING"}
    assert await Order.all().count() == 10
    assert sum(line.quantity for line in await OrderLine.all()) == 10
    product = await Product.get(sku="CONSOLE")
    assert (product.on_hand, product.allocated, product.held) == (10, 10, 0)

    # Ten more arrive; nobody claims them; once they expire they go to the next ten.
    await _receive(gql, 10)
    second = await WaitlistEntry.filter(status=WaitlistStatus.HOLDING).order_by("id")
    assert [e.id for e in second] == [parse_id(i) for i in ids[10:20]]
    expiry = max(e.hold_expires_at for e in second if e.hold_expires_at is not None)
    swept = await asyncio.gather(*(Sweeper(60, None).run_once(expiry) for _ in range(3)))
    assert sum(s.holds_expired for s in swept) == 10
    third = await WaitlistEntry.filter(status=WaitlistStatus.HOLDING).order_by("id")
    assert [e.id for e in third] == [parse_id(i) for i in ids[20:30]]
    product = await Product.get(sku="CONSOLE")
    assert (product.on_hand, product.allocated, product.held) == (20, 10, 10)
    assert sum(e.held for e in await WaitlistEntry.all()) == product.held


async def test_a_discontinued_product_offers_no_holds(gql: Run) -> None:
    await _sold_out(gql)
    entry = (await _join(gql, ALICE))["entry"]
    data = await gql(UPDATE_POLICY, STAFF, sku="CONSOLE", input={"discontinued": True})
    assert data["updateBackorderPolicy"]["__typename"] == "ProductPayload"
    await _receive(gql, 2)
    assert (await _entry(entry["id"])).status is WaitlistStatus.WAITING
    assert (await _stock(gql))["stock"]["held"] == 0
    again = await _join(gql, BOB)
    assert (again["fromStatus"], again["toStatus"]) == ("DISCONTINUED", "WAITLISTED")


async def test_concurrent_joins_of_one_customer_make_one_entry(gql: Run) -> None:
    await _sold_out(gql)
    joined = await asyncio.gather(*(_join(gql, ALICE, 2) for _ in range(6)))
    assert {j["entry"]["id"] for j in joined} == {joined[0]["entry"]["id"]}
    assert await WaitlistEntry.filter(customer_id="alice").count() == 1
