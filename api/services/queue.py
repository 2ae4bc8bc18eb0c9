"""Keeps a product's queue true: free units go to the queue, then positions and dates move."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache, partial
from typing import Any

from api.domain.allocation import allocate
from api.domain.estimates import Estimate, allocated_ship_date, estimate_queue, is_delayed
from api.domain.model import QUEUED_STATUSES, Policy, Status, Supply
from api.domain.preorders import release_due
from api.domain.queue import BEFORE_TIE_BREAK, comes_after, orm_ordering, sort_key, sql_order_by
from api.domain.restocks import OPEN_RESTOCK_STATUSES
from api.domain.status import status_for_allocation, transition
from api.services import holding, payments
from api.services.changes import Changes
from api.store import prepared, statements
from api.store.models import BackOrder, BackOrderEvent, Product, Restock

OPEN_RESTOCK = OPEN_RESTOCK_STATUSES
QUEUED = (Status.WAITING, Status.PARTIALLY_ALLOCATED)
QUEUE_ORDER = orm_ordering()
_TAIL_WITH_STATUS = """
SELECT 0 AS part, priority, placed_at, id, queue_position, estimated_ship_date AS day,
       CAST(NULL AS INTEGER) AS units
  FROM (SELECT priority, placed_at, id, queue_position, estimated_ship_date FROM back_order
         WHERE product_id = $1 AND status = {status} AND {first} = (
               SELECT {first} FROM back_order WHERE product_id = $1 AND status = {status}
                ORDER BY {first_from_tail} LIMIT 1)
         ORDER BY {rest_from_tail} LIMIT 2) AS tail"""


@cache
def tail_and_supply_sql() -> str:
    """The last two back orders of each queued status and the open restocks of one product.

    Each tail is read in the order of the (product, status, priority, placed_at) index,
    from its end: the last value of the queue order's first field, then the rest of the
    order before the id, reversed. So it costs the same for any length of queue and for any
    statistics the planner has (a table that filled since its last ANALYZE got a plan that
    read the whole queue). Two rows, because the index does not order by id: two back
    orders placed at the same instant leave the tail unknown."""
    first, *rest = BEFORE_TIE_BREAK
    tail = partial(_TAIL_WITH_STATUS.format, first=first.attribute,
                   first_from_tail=sql_order_by([first], reverse=True),
                   rest_from_tail=sql_order_by(rest, reverse=True))
    return f"""{tail(status="$2")}
UNION ALL{tail(status="$3")}
UNION ALL
SELECT 1, NULL, NULL, id, NULL, expected_date, quantity - received FROM restock
 WHERE product_id = $1 AND status IN ($4, $5) AND quantity > received
"""


async def scheduled_supply(product_id: int) -> list[Supply]:
    restocks = await Restock.filter(product_id=product_id, status__in=OPEN_RESTOCK).order_by(
        "expected_date", "id"
    )
    return [r.supply for r in restocks if r.outstanding > 0]


async def queued_back_orders(product_id: int) -> list[BackOrder]:
    """The product's queue in queue order, locked (a long one is read on every restock)."""
    if not statements.is_postgres(statements.connection()):
        return (
            await BackOrder.filter(product_id=product_id, status__in=list(QUEUED_STATUSES))
            .order_by(*QUEUE_ORDER)
            .select_for_update()
        )
    return await statements.fetch_models(BackOrder, _queued_sql(), [
        product_id, *(s.value for s in QUEUED)])


@cache
def _queued_sql() -> str:
    return (f"SELECT {prepared.select_list(BackOrder)} FROM back_order"
            " WHERE product_id = $1 AND status IN ($2, $3)"
            f" ORDER BY {sql_order_by()} FOR UPDATE")


async def resync_queue(product: Product, changes: Changes,
                       release_moved_from: date | None = None) -> None:
    """Allocate the product's free units in queue order, then re-estimate the rest.

    Call with the product row locked, after its stock changed or its queue or supply moved.
    Before its release a pre-order's units on hand are not allocated: they are the supply
    of its release day. The first resync on or after the release date releases it
    (``api/domain/preorders.py``): the units go to the pre-orders in queue order and each
    pre-order's customer is told (RELEASED). ``release_moved_from``: the release date
    before this change moved it (each pre-order's customer hears of the new day).
    """
    # The database still has what this change did not save yet (a back order it cancelled).
    queue = [bo for bo in map(changes.held, await queued_back_orders(product.id))
             if bo.status in QUEUED_STATUSES]
    today = changes.now.date()
    releasing = release_due(product.release_date, product.released_at, today)
    if releasing:
        product.released_at = changes.now
    waiting = queue
    policy = product.policy
    free = product.stock.available
    pre_release = policy.is_preorder(today)
    if free > 0 and queue and not pre_release:
        _apply_grants(product, queue, free, changes)
        queue = [bo for bo in queue if bo.status in QUEUED_STATUSES]
    if not queue and product.stock.available > 0 and not pre_release:
        await holding.offer_free_units(product, changes)
    estimates = estimate_queue(
        [bo.entry for bo in queue], max(free, 0) if pre_release else 0,
        await scheduled_supply(product.id), policy, today)
    for bo in queue:
        _apply_estimate(bo, estimates[bo.id], policy, changes)
    told = waiting + (await _set_aside_unreleased(product.id) if releasing else [])
    for bo in map(changes.held, told):
        if not bo.pre_order:
            continue
        if releasing:
            said = changes.record(bo, "RELEASED", release_date=product.release_date,
                                  allocated=bo.allocated)
            if bo.id in changes.taken:
                said["charged"] = changes.taken[bo.id]
        elif release_moved_from is not None:
            changes.record(bo, "RELEASE_DATE_MOVED", previous_release_date=release_moved_from,
                           release_date=product.release_date)
    changes.product_changed(product)


async def _set_aside_unreleased(product_id: int) -> list[BackOrder]:
    """Pre-orders set aside before their release (by a version that allocated them at
    once) that have not heard of a release: they hear of this one."""
    rows = await BackOrder.filter(product_id=product_id, pre_order=True,
                                  status=Status.ALLOCATED).select_for_update()
    if not rows:
        return []
    told: set[Any] = set(await BackOrderEvent.filter(
        back_order_id__in=[row.id for row in rows], kind="RELEASED").values_list(
            "back_order_id", flat=True))
    return [row for row in rows if row.id not in told]


@dataclass(frozen=True)
class Tail:
    """The last back order in a product's queue, as a new one at the tail needs it."""

    priority: int
    placed_at: datetime
    position: int
    ship_date: date
    known: bool = True
    """False when two back orders share the last place in queue order but for their ids."""

    @property
    def key(self) -> tuple[Any, ...]:
        return sort_key(self, BEFORE_TIE_BREAK)


async def tail_and_supply(product_id: int) -> tuple[Tail | None, list[Supply]]:
    """The queue's tail and the scheduled supply, in one statement (call with the lock)."""
    fields = BackOrder._meta.fields_map
    tail, supply = None, []
    rows = await statements.fetch(
        tail_and_supply_sql(), [product_id, *(s.value for s in (*QUEUED, *OPEN_RESTOCK))])
    for row in sorted(rows, key=lambda r: (r["part"], str(r["day"]), r["id"])):
        day = fields["estimated_ship_date"].to_python_value(row["day"])
        if row["part"] == 1:
            supply.append(Supply(expected=day, units=row["units"]))
            continue
        last = Tail(row["priority"], fields["placed_at"].to_python_value(row["placed_at"]),
                    row["queue_position"] or 0, day)
        if tail is None or comes_after(last, tail):
            tail = last
        elif last.key == tail.key:
            tail = replace(tail, known=False)
    return tail, supply


_KNOWN_TAILS: OrderedDict[int, tuple[tuple[int, datetime], Tail, list[Supply]]] = OrderedDict()
KNOWN_TAILS_KEPT = 1024


def known_tail(product: Product) -> tuple[Tail | None, list[Supply]] | None:
    """The tail and supply this process left after its last placement in the product's
    queue, if nothing changed since: every change to a queue or to its supply saves the
    product (a new version and time), so the product row read under the lock tells."""
    found = _KNOWN_TAILS.get(product.id)
    if found is None or found[0] != (product.version, product.updated_at):
        return None
    return found[1], found[2]


def remember_tail(product: Product, back_order: BackOrder, supply: list[Supply]) -> None:
    """Call after the commit that left ``back_order`` at the tail of the product's queue."""
    tail = Tail(back_order.priority, back_order.placed_at, back_order.queue_position or 0,
                back_order.estimated_ship_date)
    _KNOWN_TAILS[product.id] = ((product.version, product.updated_at), tail, supply)
    _KNOWN_TAILS.move_to_end(product.id)
    while len(_KNOWN_TAILS) > KNOWN_TAILS_KEPT:
        _KNOWN_TAILS.popitem(last=False)


def estimate_at_tail(
    product: Product, back_order: BackOrder, tail: Tail | None, supply: list[Supply],
    today: date,
) -> bool:
    """Give a new, unsaved back order its place at the tail of the queue.

    False when it does not belong at the tail (a higher priority, or a clock that went
    back) or free units wait for the queue (not a pre-order's: those wait for the
    release): then the caller saves it and resyncs.
    """
    pre_release = product.policy.is_preorder(today)
    if product.stock.available > 0 and not pre_release:
        return False
    if tail is not None and (not tail.known or not comes_after(back_order, tail)):
        return False
    # Before the release the units on hand are the supply of its day.
    free = max(product.stock.available, 0) if pre_release else 0
    estimate = estimate_queue(
        [back_order.entry], free, supply, product.policy, today,
        units_before=product.waiting - back_order.remaining_units,
        first_position=tail.position + 1 if tail else 1,
        floor=tail.ship_date if tail else None,
    )[back_order.id]
    back_order.queue_position = estimate.position
    back_order.units_ahead = estimate.units_ahead
    back_order.estimated_ship_date = back_order.promised_date = estimate.ship_date
    back_order.estimate_scheduled = estimate.scheduled
    return True


async def redate_allocated(product: Product, changes: Changes) -> None:
    """Allocated back orders ship after handling, and never before release: re-date them."""
    ship = allocated_ship_date(product.policy, changes.now.date())
    for bo in await BackOrder.filter(product_id=product.id, status=Status.ALLOCATED,
                                     estimated_ship_date__not=ship).select_for_update():
        _set_date(bo, ship, True, changes)
        _apply_delay(bo, product.policy, changes)


def _apply_grants(
    product: Product, queue: list[BackOrder], free: int, changes: Changes
) -> None:
    by_id = {bo.id: bo for bo in queue}
    policy = product.policy
    ship = allocated_ship_date(policy, changes.now.date())
    granted = 0
    for grant in allocate(free, [bo.entry for bo in queue]):
        bo = by_id[grant.back_order_id]
        bo.allocated += grant.units
        status = status_for_allocation(bo.quantity, bo.allocated)
        if status is not bo.status:
            bo.status = transition(bo.status, status)
        granted += grant.units
        changes.touch(bo, "allocated", "status")
        said = changes.record(bo, bo.status.value, units=grant.units, allocated=bo.allocated)
        if charged := payments.on_allocation(bo, changes):  # (units set aside are paid for)
            said["charged"] = charged
        if bo.status is Status.ALLOCATED:
            bo.allocated_at = changes.now
            bo.queue_position = None
            bo.units_ahead = 0
            _set_date(bo, ship, True, changes)
            _apply_delay(bo, policy, changes)
            changes.touch(bo, "allocated_at", "queue_position", "units_ahead")
    product.allocated += granted
    product.waiting -= granted


def _apply_estimate(bo: BackOrder, estimate: Estimate, policy: Policy, changes: Changes) -> None:
    place = (bo.queue_position, bo.units_ahead)
    if place != (estimate.position, estimate.units_ahead):
        bo.queue_position = estimate.position
        bo.units_ahead = estimate.units_ahead
        changes.touch(bo, "queue_position", "units_ahead")
        if not changes.is_new(bo):  # (a new one's PLACED line says where it is)
            changes.record(bo, "QUEUE_MOVED", previous_position=place[0],
                           queue_position=estimate.position, previous_units_ahead=place[1],
                           units_ahead=estimate.units_ahead,
                           previous_date=bo.estimated_ship_date,
                           estimated_ship_date=estimate.ship_date)
    _set_date(bo, estimate.ship_date, estimate.scheduled, changes)
    _apply_delay(bo, policy, changes)


def _apply_delay(bo: BackOrder, policy: Policy, changes: Changes) -> None:
    delayed = is_delayed(bo.estimated_ship_date, bo.promised_date, policy)
    if delayed != bo.delayed:
        bo.delayed = delayed
        changes.touch(bo, "delayed")
        if delayed:  # the customer is offered to keep waiting or cancel (DELAY_OFFER)
            bo.delay_offered_at = changes.now
            changes.touch(bo, "delay_offered_at")
        changes.record(
            bo,
            "DELAYED" if delayed else "BACK_ON_TIME",
            promised_date=bo.promised_date,
            estimated_ship_date=bo.estimated_ship_date,
        )


def _set_date(bo: BackOrder, ship_date: date, scheduled: bool, changes: Changes) -> None:
    if changes.is_new(bo):
        bo.estimated_ship_date = bo.promised_date = ship_date
        bo.estimate_scheduled = scheduled
        changes.touch(bo, "estimated_ship_date", "promised_date", "estimate_scheduled")
        return
    if bo.estimate_scheduled != scheduled:
        bo.estimate_scheduled = scheduled
        changes.touch(bo, "estimate_scheduled")
        if bo.estimated_ship_date == ship_date:  # else DATE_CHANGED below says it
            changes.record(bo, "ESTIMATE_BASIS_CHANGED", estimate_is_scheduled=scheduled,
                           estimated_ship_date=ship_date)
    if bo.estimated_ship_date != ship_date:
        previous = bo.estimated_ship_date
        bo.estimated_ship_date = ship_date
        changes.touch(bo, "estimated_ship_date")
        changes.record(bo, "DATE_CHANGED", previous=previous, estimated_ship_date=ship_date)
