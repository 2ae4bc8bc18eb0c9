"""Every committed change to a back order has its history lines: each version from 1 to the
current one has at least one line, also for a change that only moves it in the queue
(a QUEUE_MOVED line with the old and new place and date). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict

from api.store.models import BackOrder, BackOrderEvent
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import (
    ADJUST_STOCK,
    BACK_ORDER,
    CANCEL_BACK_ORDER,
    CANCEL_RESTOCK,
    PLACE_ORDER,
    RECEIVE_RESTOCK,
    RESCHEDULE_RESTOCK,
    UPDATE_POLICY,
)
from tests.integration.test_ordering import in_days


async def _versions_without_lines() -> dict[int, list[int]]:
    lines: dict[int, set[int]] = defaultdict(set)
    for event in await BackOrderEvent.all():
        lines[event.back_order_id].add(event.version)
    return {bo.id: missing for bo in await BackOrder.all()
            if (missing := sorted(set(range(1, bo.version + 1)) - lines[bo.id]))}


async def test_a_move_up_the_queue_is_a_history_line_with_the_old_and_new_place(
        gql: Run) -> None:
    await steps.product(gql, "KB")
    await steps.restock(gql, "KB", 2, in_days(3))
    await steps.restock(gql, "KB", 2, in_days(9))
    first = await steps.back_order(gql, ALICE, "KB", 2)
    second = await steps.back_order(gql, BOB, "KB", 2)

    await gql(CANCEL_BACK_ORDER, ALICE, id=first["id"])

    after = (await gql(BACK_ORDER, BOB, id=second["id"]))["backOrder"]
    assert (after["queuePosition"], after["version"]) == (1, 2)
    lines = {line["kind"]: line for line in after["history"] if line["version"] == 2}
    assert set(lines) == {"QUEUE_MOVED", "DATE_CHANGED"}
    assert lines["QUEUE_MOVED"]["detail"] == {
        "previous_position": 2, "queue_position": 1,
        "previous_units_ahead": 2, "units_ahead": 0,
        "previous_date": in_days(10), "estimated_ship_date": in_days(4)}


async def test_every_version_of_every_back_order_has_its_lines(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=1, leadTimeDays=20)
    early = await steps.restock(gql, "KB", 3, in_days(4))
    late = await steps.restock(gql, "KB", 5, in_days(12))
    placed = [await steps.back_order(gql, who, "KB", quantity)
              for who, quantity in ((ALICE, 2), (BOB, 1), (ALICE, 3), (BOB, 2))]
    await gql(PLACE_ORDER, STAFF, input={"lines": [{"sku": "KB", "quantity": 2}],
                                         "idempotencyKey": "vip", "customerId": "carol",
                                         "priority": 5})
    await gql(RECEIVE_RESTOCK, STAFF, id=early, quantity=1)
    await gql(CANCEL_BACK_ORDER, BOB, id=placed[1]["id"])
    await gql(RESCHEDULE_RESTOCK, STAFF, id=late, date=in_days(6))
    await gql(UPDATE_POLICY, STAFF, sku="KB", input={"leadTimeDays": 30})
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=2)
    await gql(CANCEL_RESTOCK, STAFF, id=early)
    await gql(RECEIVE_RESTOCK, STAFF, id=late)

    assert await _versions_without_lines() == {}
    assert max(bo.version for bo in await BackOrder.all()) >= 4
    kinds = {event.kind for event in await BackOrderEvent.all()}
    assert {"QUEUE_MOVED", "DATE_CHANGED", "ALLOCATED"} <= kinds
