"""Pre-orders from announcement to release (issue 15, parts 1 and 4) on SQLite and
PostgreSQL: pre-orders wait whatever is on hand; the release (by the sweep at the release
date, exactly once, or early by staff) gives the units to them in queue order and tells
each customer once; a moved release date moves every estimate and tells each customer
once, old and new day; the pre-order cap holds under concurrency; the first N pre-orders
are early birds and a cancelled one's mark moves to the next in line."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from api.domain.identity import Actor, Role
from api.scheduling.sweeper import Sweeper
from api.services import ordering, releases
from api.services.ordering import LineRequest
from api.store.models import BackOrder, BackOrderEvent, Notification, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import CANCEL_BACK_ORDER, UPDATE_POLICY
from tests.integration.test_queries import SET_PREFERENCES

CAROL = Actor("carol", Role.CUSTOMER)
RELEASE = """mutation($sku: String!) {
  releaseProduct(sku: $sku) {
    __typename
    ... on ProductPayload { product { availability releasedAt policy { releaseDate }
                                      stock { onHand allocated backordered } } }
    ... on Error { code message }
    ... on InvalidTransitionError { fromStatus toStatus }
  }
}"""
MINE = """query($id: ID!) {
  backOrder(id: $id) { status allocatedQuantity queuePosition estimatedShipDate delayed
                       preOrder earlyBird history { kind detail } }
}"""
PRODUCT = """query($sku: String!) {
  product(sku: $sku) { availability releasedAt estimatedShipDate(quantity: 1)
    policy { releaseDate preOrderCap earlyBirdSize earlyBirdBonus } }
}"""


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


async def _emails(gql: Run, *who: Actor) -> None:
    for actor in who:
        await gql(SET_PREFERENCES, actor, input={
            "email": f"{actor.subject}@example.com", "channels": ["EMAIL"]})


async def _events(customer: str) -> list[str]:
    rows = await Notification.filter(customer_id=customer).exclude(
        status="SUPPRESSED").order_by("id")
    return [row.event for row in rows]


async def _pre_orders(count: int, sku: str, now: datetime | None = None) -> None:
    """``count`` pre-orders of one unit, by customers c0000, c0001, ... in that order."""
    for n in range(count):
        await ordering.place_order(STAFF, [LineRequest(sku, 1)], f"k{n}", "USD",
                                   customer_id=f"c{n:04}", now=now)


async def test_pre_orders_wait_whatever_is_on_hand_and_count_it_for_their_date(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", on_hand=2, releaseDate=in_days(30), handlingDays=0,
                        leadTimeDays=60)
    first = await steps.back_order(gql, ALICE, "BOOK", 1)
    second = await steps.back_order(gql, BOB, "BOOK", 2)
    assert (first["status"], first["queuePosition"], first["estimatedShipDate"]) == (
        "WAITING", 1, in_days(30))
    # One unit on hand is left for Bob's two: the second comes after the lead time.
    assert (second["queuePosition"], second["estimatedShipDate"]) == (2, in_days(60))
    product = await Product.get(sku="BOOK")
    assert (product.on_hand, product.allocated, product.waiting) == (2, 0, 3)
    shown = (await gql(PRODUCT, None, sku="BOOK"))["product"]
    assert (shown["availability"], shown["releasedAt"]) == ("PREORDER", None)
    mine = (await gql(MINE, ALICE, id=first["id"]))["backOrder"]
    assert (mine["preOrder"], mine["earlyBird"]) == (True, False)


async def test_an_early_release_gives_1000_pre_orders_the_stock_in_queue_order(
        gql: Run) -> None:
    await steps.product(gql, "GAME", on_hand=600, releaseDate=in_days(10), handlingDays=1)
    await _pre_orders(1000, "GAME")
    await _emails(gql, Actor("c0000", Role.CUSTOMER), Actor("c0999", Role.CUSTOMER))
    released = (await gql(RELEASE, STAFF, sku="GAME"))["releaseProduct"]
    assert released["__typename"] == "ProductPayload", released
    product = released["product"]
    assert product["policy"]["releaseDate"] == in_days(0)
    assert product["releasedAt"] is not None
    assert product["stock"] == {"onHand": 600, "allocated": 600, "backordered": 400}
    rows = await BackOrder.filter(product__sku="GAME").order_by("placed_at", "id")
    assert [r.customer_id for r in rows] == [f"c{n:04}" for n in range(1000)]
    assert [r.status.value for r in rows] == ["ALLOCATED"] * 600 + ["WAITING"] * 400
    assert [r.queue_position for r in rows[600:]] == list(range(1, 401))
    assert all(r.estimated_ship_date == date.today() + timedelta(days=1) for r in rows[:600])
    assert await BackOrderEvent.filter(kind="RELEASED").count() == 1000
    # Each customer hears once: the release says it is set aside (no ALLOCATED message).
    assert await _events("c0000") == ["RELEASED"]
    assert await _events("c0999") == ["RELEASED"]
    again = (await gql(RELEASE, STAFF, sku="GAME"))["releaseProduct"]
    assert (again["__typename"], again["fromStatus"]) == ("InvalidTransitionError", "RELEASED")


async def test_the_sweep_releases_at_the_release_date_once_however_many_run(gql: Run) -> None:
    await steps.product(gql, "GAME", on_hand=2, releaseDate=in_days(3), handlingDays=0)
    await _emails(gql, ALICE, BOB, CAROL)
    for actor in (ALICE, BOB, CAROL):
        await steps.back_order(gql, actor, "GAME", 1)
    sweeper = Sweeper(60, None)
    assert (await sweeper.run_once()).released == 0  # not yet
    release_day = datetime.now(UTC) + timedelta(days=3)
    swept = await asyncio.gather(*(sweeper.run_once(release_day) for _ in range(3)))
    assert sum(s.released for s in swept) == 1
    assert (await sweeper.run_once(release_day + timedelta(hours=1))).released == 0
    product = await Product.get(sku="GAME")
    assert product.released_at is not None
    assert (product.allocated, product.waiting) == (2, 1)
    assert await BackOrderEvent.filter(kind="RELEASED").count() == 3
    assert await _events("alice") == ["PLACED", "RELEASED"]
    assert await _events("carol") == ["PLACED", "RELEASED"]


async def test_an_order_after_the_release_date_releases_before_it_queues(gql: Run) -> None:
    await steps.product(gql, "GAME", on_hand=1, releaseDate=in_days(2), handlingDays=0)
    first = await steps.back_order(gql, ALICE, "GAME", 1)
    later = datetime.now(UTC) + timedelta(days=2, hours=1)
    await ordering.place_order(BOB, [LineRequest("GAME", 1)], "late", "USD", now=later)
    alice = await BackOrder.get(id=int(first["id"]))
    bob = await BackOrder.get(customer_id="bob")
    assert (alice.status.value, bob.status.value, bob.queue_position) == (
        "ALLOCATED", "WAITING", 1)
    assert (alice.pre_order, bob.pre_order) == (True, False)
    assert await BackOrderEvent.filter(kind="RELEASED").count() == 1
    assert (await Product.get(sku="GAME")).released_at is not None


async def test_a_moved_release_date_moves_every_estimate_and_tells_each_customer_once(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", on_hand=5, releaseDate=in_days(10), handlingDays=0,
                        delayGraceDays=2)
    await _emails(gql, ALICE, BOB)
    alice = await steps.back_order(gql, ALICE, "BOOK", 1)
    await steps.back_order(gql, BOB, "BOOK", 2)
    moved = await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"releaseDate": in_days(20)})
    assert moved["updateBackorderPolicy"]["__typename"] == "ProductPayload"
    mine = (await gql(MINE, ALICE, id=alice["id"]))["backOrder"]
    assert (mine["estimatedShipDate"], mine["delayed"], mine["status"]) == (
        in_days(20), True, "WAITING")
    line = next(e for e in mine["history"] if e["kind"] == "RELEASE_DATE_MOVED")
    assert line["detail"] == {"previous_release_date": in_days(10),
                              "release_date": in_days(20)}
    # Once each: no DATE_CHANGED and no separate DELAY_OFFER beside it.
    assert await _events("alice") == ["PLACED", "RELEASE_DATE_MOVED"]
    assert await _events("bob") == ["PLACED", "RELEASE_DATE_MOVED"]
    # A second move before the first message went out: one message, first day -> last day.
    await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"releaseDate": in_days(25)})
    assert await _events("alice") == ["PLACED", "RELEASE_DATE_MOVED"]
    message = await Notification.get(customer_id="alice", event="RELEASE_DATE_MOVED")
    assert (message.data["previous_release_date"], message.data["release_date"]) == (
        in_days(10), in_days(25))
    # Back to where it was: nothing to say.
    await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"releaseDate": in_days(10)})
    assert await _events("alice") == ["PLACED"]


async def test_a_release_date_moved_to_today_or_cleared_releases_now(gql: Run) -> None:
    await steps.product(gql, "BOOK", on_hand=1, releaseDate=in_days(10))
    await steps.product(gql, "CARD", on_hand=1, releaseDate=in_days(10))
    await steps.back_order(gql, ALICE, "BOOK", 1)
    await steps.back_order(gql, ALICE, "CARD", 1)
    await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"releaseDate": in_days(0)})
    await gql(UPDATE_POLICY, STAFF, sku="CARD", input={"clearReleaseDate": True})
    for sku, day in (("BOOK", date.today()), ("CARD", None)):
        product = await Product.get(sku=sku)
        assert (product.release_date, product.allocated) == (day, 1), sku
        assert product.released_at is not None
    assert await BackOrderEvent.filter(kind="RELEASED").count() == 2


async def test_release_refusals_change_nothing(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=3)
    await steps.product(gql, "BOOK", releaseDate=in_days(10))
    refused = (await gql(RELEASE, STAFF, sku="KB"))["releaseProduct"]
    assert (refused["__typename"], refused["fromStatus"]) == (
        "InvalidTransitionError", "NOT_A_PRE_ORDER")
    assert (await gql(RELEASE, ALICE, sku="BOOK"))["releaseProduct"]["__typename"] == (
        "ForbiddenError")
    assert (await gql(RELEASE, STAFF, sku="NOPE"))["releaseProduct"]["__typename"] == (
        "NotFoundError")
    assert (await Product.get(sku="BOOK")).released_at is None
    for bad in ({"preOrderCap": -1}, {"earlyBirdSize": 0}, {"earlyBirdBonus": "x" * 201}):
        data = await gql(UPDATE_POLICY, STAFF, sku="BOOK", input=bad)
        assert data["updateBackorderPolicy"]["__typename"] == "InvalidInputError", bad
    shown = (await gql(PRODUCT, None, sku="BOOK"))["product"]["policy"]
    assert (shown["preOrderCap"], shown["earlyBirdSize"], shown["earlyBirdBonus"]) == (
        None, None, "")


async def test_the_pre_order_cap_bounds_pre_orders_whatever_is_on_hand(gql: Run) -> None:
    await steps.product(gql, "BOOK", on_hand=50, releaseDate=in_days(10), preOrderCap=3,
                        backorderCap=100)
    await steps.back_order(gql, ALICE, "BOOK", 2)
    refused = await steps.order(gql, BOB, "BOOK", 2)
    assert refused["__typename"] == "OutOfStockError"
    assert "pre-order cap reached" in refused["message"]
    await steps.back_order(gql, BOB, "BOOK", 1)
    assert (await gql(PRODUCT, None, sku="BOOK"))["product"]["availability"] == "OUT_OF_STOCK"
    await gql(RELEASE, STAFF, sku="BOOK")
    # Released: a normal product, its stock sold to the next order at once.
    placed = await steps.order(gql, CAROL, "BOOK", 5)
    assert placed["order"]["lines"][0]["allocatedQuantity"] == 5


async def test_the_first_pre_orders_are_early_birds_and_a_cancelled_ones_mark_moves_on(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", releaseDate=in_days(10), earlyBirdSize=2,
                        earlyBirdBonus="a signed print")
    await _emails(gql, ALICE, BOB, CAROL)
    alice = await steps.back_order(gql, ALICE, "BOOK", 1)
    bob = await steps.back_order(gql, BOB, "BOOK", 1)
    carol = await steps.back_order(gql, CAROL, "BOOK", 1)
    marks = [(await gql(MINE, who, id=bo["id"]))["backOrder"]["earlyBird"]
             for who, bo in ((ALICE, alice), (BOB, bob), (CAROL, carol))]
    assert marks == [True, True, False]
    # Told in the PLACED message itself, not twice.
    assert await _events("alice") == ["PLACED"]
    placed = await Notification.get(customer_id="alice", event="PLACED")
    assert (placed.data["early_bird"], placed.data["early_bird_bonus"]) == (
        True, "a signed print")
    cancelled = await gql(CANCEL_BACK_ORDER, ALICE, id=alice["id"])
    assert cancelled["cancelBackOrder"]["__typename"] == "BackOrderPayload"
    assert not (await BackOrder.get(id=int(alice["id"]))).early_bird
    carol_now = (await gql(MINE, CAROL, id=carol["id"]))["backOrder"]
    assert carol_now["earlyBird"] is True
    assert carol_now["history"][-1] == {"kind": "EARLY_BIRD",
                                        "detail": {"bonus": "a signed print"}}
    assert await _events("carol") == ["PLACED", "EARLY_BIRD"]
    # The marks stay two, and a late pre-order gets none.
    later = await steps.back_order(gql, ALICE, "BOOK", 1)
    assert (await gql(MINE, ALICE, id=later["id"]))["backOrder"]["earlyBird"] is False
    assert await BackOrder.filter(early_bird=True).count() == 2
    # A larger size marks the next in line at once.
    await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"earlyBirdSize": 3})
    assert (await BackOrder.get(id=int(later["id"]))).early_bird


async def test_300_concurrent_pre_orders_against_a_cap_of_200_and_50_early_birds(
        gql: Run, db: str) -> None:
    if not db.startswith("postgres"):
        pytest.skip("the race needs PostgreSQL's concurrent transactions")
    await steps.product(gql, "CONSOLE", releaseDate=in_days(30), preOrderCap=200,
                        earlyBirdSize=50)

    async def one(n: int) -> Any:
        try:
            return await ordering.place_order(
                STAFF, [LineRequest("CONSOLE", 1)], f"race-{n}", "USD",
                customer_id=f"c{n:03}")
        except Exception as exc:  # the refusals are the point
            return exc

    results = await asyncio.gather(*(one(n) for n in range(300)))
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 100
    assert {type(r).__name__ for r in refused} == {"OutOfStock"}
    rows = await BackOrder.filter(product__sku="CONSOLE").order_by("queue_position")
    assert len(rows) == 200
    assert [r.queue_position for r in rows] == list(range(1, 201))
    assert [r.early_bird for r in rows] == [True] * 50 + [False] * 150
    assert (await Product.get(sku="CONSOLE")).waiting == 200


async def test_the_release_message_of_a_delayed_pre_order_carries_the_offer(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", releaseDate=in_days(5), handlingDays=0, leadTimeDays=5,
                        delayGraceDays=0)
    await _emails(gql, ALICE)
    await steps.back_order(gql, ALICE, "BOOK", 1)
    await releases.release_due_products(datetime.now(UTC) + timedelta(days=5))
    row = await BackOrder.get(customer_id="alice")
    assert row.delayed  # nothing on hand: the lead time from the release day
    assert await _events("alice") == ["PLACED", "RELEASED"]
    message = await Notification.get(customer_id="alice", event="RELEASED")
    assert message.data["delayed"] is True


async def test_a_customer_who_did_not_choose_released_still_hears_allocated(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", on_hand=1, releaseDate=in_days(5), handlingDays=0)
    await gql(SET_PREFERENCES, ALICE, input={
        "email": "alice@example.com", "channels": ["EMAIL"],
        "events": ["PLACED", "ALLOCATED", "SHIPPED"]})
    await steps.back_order(gql, ALICE, "BOOK", 1)
    await gql(RELEASE, STAFF, sku="BOOK")
    assert await _events("alice") == ["PLACED", "ALLOCATED"]


async def test_without_a_pre_order_cap_a_limited_run_takes_what_is_on_hand(gql: Run) -> None:
    await steps.product(gql, "LTD", on_hand=2, releaseDate=in_days(5), allowBackorders=False)
    await steps.back_order(gql, ALICE, "LTD", 2)
    refused = await steps.order(gql, BOB, "LTD", 1)
    assert refused["__typename"] == "OutOfStockError"
    assert "back orders not allowed" in refused["message"]


async def test_a_cleared_release_date_releases_and_goes_and_a_later_one_announces_again(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", on_hand=1, releaseDate=in_days(5))
    await steps.back_order(gql, ALICE, "BOOK", 1)
    await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"clearReleaseDate": True})
    product = await Product.get(sku="BOOK")
    assert (product.release_date, product.allocated) == (None, 1)
    assert product.released_at is not None
    # A second edition: a pre-order again until its day, then released once more.
    again = await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"releaseDate": in_days(9)})
    assert again["updateBackorderPolicy"]["product"]["availability"] == "PREORDER"
    assert (await Product.get(sku="BOOK")).released_at is None
    second = await steps.back_order(gql, BOB, "BOOK", 1)
    assert (await BackOrder.get(id=int(second["id"]))).pre_order
    assert await releases.release_due_products(datetime.now(UTC) + timedelta(days=9)) == 1
    assert await BackOrderEvent.filter(kind="RELEASED").count() == 2


async def test_a_date_moved_after_the_release_day_before_the_sweep_is_a_move(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", releaseDate=in_days(1))
    await _emails(gql, ALICE)
    await steps.back_order(gql, ALICE, "BOOK", 1)
    product = await Product.get(sku="BOOK")
    product.release_date = date.today()  # its day came; the sweep has not run yet
    await product.save(update_fields=["release_date"])
    await gql(UPDATE_POLICY, STAFF, sku="BOOK", input={"releaseDate": in_days(7)})
    assert (await Product.get(sku="BOOK")).released_at is None
    assert await _events("alice") == ["PLACED", "RELEASE_DATE_MOVED"]


async def test_early_birds_go_by_placement_and_a_staff_priority_does_not_take_a_mark(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", releaseDate=in_days(10), earlyBirdSize=2)
    alice = await steps.back_order(gql, ALICE, "BOOK", 1)
    await steps.back_order(gql, BOB, "BOOK", 1)
    await steps.back_order(gql, CAROL, "BOOK", 1)
    await ordering.place_order(STAFF, [LineRequest("BOOK", 1)], "vip", "USD",
                               customer_id="erin", priority=5)
    erin = await BackOrder.get(customer_id="erin")
    assert (erin.queue_position, erin.early_bird) == (1, False)
    await gql(CANCEL_BACK_ORDER, ALICE, id=alice["id"])
    marked = [bo.customer_id for bo in await BackOrder.filter(early_bird=True).order_by("id")]
    assert marked == ["bob", "carol"]


async def test_staff_hear_when_the_pre_order_cap_is_reached(gql: Run) -> None:
    await steps.product(gql, "BOOK", releaseDate=in_days(10), preOrderCap=2, backorderCap=1)
    await steps.back_order(gql, ALICE, "BOOK", 1)
    assert await Notification.filter(event="CAP_REACHED").count() == 0
    await steps.back_order(gql, BOB, "BOOK", 1)
    alert = await Notification.get(event="CAP_REACHED")
    assert (alert.data["cap"], alert.data["waiting"]) == (2, 2)


async def test_pre_orders_set_aside_before_this_version_hear_of_the_release(
        gql: Run) -> None:
    await steps.product(gql, "BOOK", on_hand=1, releaseDate=in_days(10))
    await _emails(gql, ALICE)
    bo = await steps.back_order(gql, ALICE, "BOOK", 1)
    # As the version before 0021 left it: allocated at once, before the release.
    await BackOrder.filter(id=int(bo["id"])).update(
        status="ALLOCATED", allocated=1, queue_position=None, allocated_at=datetime.now(UTC))
    await Product.filter(sku="BOOK").update(allocated=1, waiting=0)
    await gql(RELEASE, STAFF, sku="BOOK")
    assert await _events("alice") == ["PLACED", "RELEASED"]
