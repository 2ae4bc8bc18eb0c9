"""Staff change a waiting back order's priority (issue 16, part 5): the whole queue's places,
units ahead and dates move, the history says who and why, the moved customer is told and
every affected back order has a live event; refusals change nothing. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from api.services.changes import BACK_ORDER_TOPIC, PRODUCT_TOPIC
from api.store.models import BackOrder, BackOrderEvent, Notification, OutboxEvent, Product
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import ADJUST_STOCK, BACK_ORDER
from tests.integration.test_ordering import in_days
from tests.integration.test_queries import SET_PREFERENCES

SET_PRIORITY = """
mutation($id: ID!, $priority: Int!, $reason: String!) {
  setBackOrderPriority(id: $id, priority: $priority, reason: $reason) {
    __typename
    ... on BackOrderPayload { backOrder { id queuePosition unitsAhead estimatedShipDate
                                          version } }
    ... on Error { code message }
    ... on InvalidInputError { field }
    ... on InvalidTransitionError { fromStatus toStatus }
  }
}"""


async def _queue(gql: Run) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    await steps.product(gql, "KB", leadTimeDays=30)
    await steps.restock(gql, "KB", 2, in_days(3))
    await steps.restock(gql, "KB", 2, in_days(9))
    for who in (ALICE, BOB):
        await gql(SET_PREFERENCES, who, input={
            "email": f"{who.subject}@example.com", "channels": ["EMAIL"]})
    first = await steps.back_order(gql, ALICE, "KB", 2)
    second = await steps.back_order(gql, BOB, "KB", 2)
    carol = await steps.back_order(gql, BOB, "KB", 1)
    return first, second, carol


async def _read(gql: Run, back_order: dict[str, Any]) -> dict[str, Any]:
    data = await gql(BACK_ORDER, STAFF, id=back_order["id"])
    return data["backOrder"]  # type: ignore[no-any-return]


async def test_raising_a_priority_moves_the_whole_queue_and_says_who_and_why(
        gql: Run) -> None:
    first, second, third = await _queue(gql)
    before = [await _read(gql, b) for b in (first, second, third)]
    assert [b["queuePosition"] for b in before] == [1, 2, 3]
    assert [b["estimatedShipDate"] for b in before] == [in_days(4), in_days(10), in_days(30)]
    outbox_before = max(e.id for e in await OutboxEvent.all())

    data = await gql(SET_PRIORITY, STAFF, id=second["id"], priority=10,
                     reason="replacement for a damaged unit")
    moved = data["setBackOrderPriority"]
    assert moved["__typename"] == "BackOrderPayload", moved
    assert (moved["backOrder"]["queuePosition"], moved["backOrder"]["unitsAhead"]) == (1, 0)
    assert moved["backOrder"]["estimatedShipDate"] == in_days(4)

    after = [await _read(gql, b) for b in (first, second, third)]
    assert [b["queuePosition"] for b in after] == [2, 1, 3]
    assert [b["unitsAhead"] for b in after] == [2, 0, 4]
    assert [b["estimatedShipDate"] for b in after] == [in_days(10), in_days(4), in_days(30)]
    # Alice was moved back and Bob forward: both have a new version; the third did not move.
    assert [b["version"] - a["version"] for a, b in zip(before, after, strict=True)] == [1, 1, 0]

    [line] = [h for h in after[1]["history"] if h["kind"] == "PRIORITY_CHANGED"]
    assert line["detail"]["by"] == STAFF.subject
    assert line["detail"]["reason"] == "replacement for a damaged unit"
    assert (line["detail"]["previous_priority"], line["detail"]["priority"]) == (0, 10)
    assert line["detail"]["previous_position"] == 2
    assert line["version"] == after[1]["version"]
    alice_lines = {h["kind"] for h in after[0]["history"] if h["version"] == after[0]["version"]}
    assert "QUEUE_MOVED" in alice_lines and "DATE_CHANGED" in alice_lines

    # One live event per moved back order and one for the product, in the same transaction.
    ids = {b.customer_id: b.id for b in await BackOrder.filter(quantity=2)}
    events = sorted((e.topic, e.key) for e in await OutboxEvent.filter(id__gt=outbox_before))
    assert events == sorted([(BACK_ORDER_TOPIC, str(ids["alice"])),
                             (BACK_ORDER_TOPIC, str(ids["bob"])), (PRODUCT_TOPIC, "KB")])

    # Bob is told of the priority change; Alice, now later than she was promised, is
    # offered to keep waiting or cancel (which says her new date); nobody twice.
    told = sorted((n.customer_id, n.event) for n in await Notification.filter(
        event__in=["PRIORITY_CHANGED", "DATE_CHANGED", "DELAY_OFFER"]))
    assert told == [("alice", "DELAY_OFFER"), ("bob", "PRIORITY_CHANGED")], told
    bob = await Notification.get(event="PRIORITY_CHANGED")
    assert (bob.data["queue_position"], bob.data["estimated_ship_date"],
            bob.data["previous_date"]) == (1, in_days(4), in_days(10))


async def test_lowering_it_back_restores_the_order_and_the_same_value_is_a_no_op(
        gql: Run) -> None:
    first, second, third = await _queue(gql)
    await gql(SET_PRIORITY, STAFF, id=second["id"], priority=10, reason="vip")
    version = (await _read(gql, second))["version"]
    again = await gql(SET_PRIORITY, STAFF, id=second["id"], priority=10, reason="vip")
    assert again["setBackOrderPriority"]["backOrder"]["version"] == version
    assert await BackOrderEvent.filter(kind="PRIORITY_CHANGED").count() == 1

    await gql(SET_PRIORITY, STAFF, id=second["id"], priority=0, reason="mistake")
    after = [await _read(gql, b) for b in (first, second, third)]
    # Equal priorities go in the order they were placed.
    assert [b["queuePosition"] for b in after] == [1, 2, 3]
    assert [b["estimatedShipDate"] for b in after] == [in_days(4), in_days(10), in_days(30)]

    # A lower priority than everyone's goes to the back.
    await gql(SET_PRIORITY, STAFF, id=first["id"], priority=-5, reason="asked to wait")
    after = [await _read(gql, b) for b in (first, second, third)]
    assert [b["queuePosition"] for b in after] == [3, 1, 2]


async def test_refusals_are_typed_and_change_nothing(gql: Run) -> None:
    first, second, _ = await _queue(gql)
    product = await Product.get(sku="KB")

    async def refused(actor: Any, id: str, priority: int, reason: str) -> dict[str, Any]:
        data = await gql(SET_PRIORITY, actor, id=id, priority=priority, reason=reason)
        return data["setBackOrderPriority"]  # type: ignore[no-any-return]

    assert (await refused(ALICE, first["id"], 10, "me first"))["__typename"] == (
        "ForbiddenError")
    assert (await refused(None, first["id"], 10, "me first"))["__typename"] in (
        "ForbiddenError", "UnauthenticatedError")
    for bad in (101, -101, 10**6):
        answer = await refused(STAFF, first["id"], bad, "vip")
        assert (answer["__typename"], answer["field"]) == ("InvalidInputError", "priority")
    for reason in ("", "   ", "x" * 201):
        answer = await refused(STAFF, first["id"], 10, reason)
        assert (answer["__typename"], answer["field"]) == ("InvalidInputError", "reason")
    unknown = await refused(STAFF, "999999", 10, "vip")
    assert unknown["__typename"] in ("NotFoundError", "InvalidInputError")

    # Allocated (here: stock arrives for the first in line) is past the queue.
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=2)
    answer = await refused(STAFF, first["id"], 10, "vip")
    assert answer["__typename"] == "InvalidTransitionError", answer
    assert (answer["fromStatus"], answer["toStatus"]) == ("ALLOCATED", "REPRIORITIZED")

    assert await BackOrderEvent.filter(kind="PRIORITY_CHANGED").count() == 0
    assert (await Product.get(sku="KB")).version == product.version + 1  # the stock only
    assert await Notification.filter(event="PRIORITY_CHANGED").count() == 0
    assert (await _read(gql, second))["queuePosition"] == 1
