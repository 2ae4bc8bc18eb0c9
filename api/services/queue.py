"""Keeps a product's queue true: free units go to the queue, then positions and dates move."""

from __future__ import annotations

from datetime import date

from api.domain.allocation import allocate
from api.domain.estimates import Estimate, allocated_ship_date, estimate_queue, is_delayed
from api.domain.model import QUEUED_STATUSES, Policy, RestockStatus, Status, Supply
from api.domain.queue import queue_key
from api.domain.status import status_for_allocation, transition
from api.services.changes import Changes
from api.store.models import BackOrder, Product, Restock

OPEN_RESTOCK = (RestockStatus.SCHEDULED, RestockStatus.PARTIALLY_RECEIVED)
QUEUE_ORDER = ("-priority", "placed_at", "id")


async def scheduled_supply(product_id: int) -> list[Supply]:
    restocks = await Restock.filter(product_id=product_id, status__in=OPEN_RESTOCK).order_by(
        "expected_date", "id"
    )
    return [r.supply for r in restocks if r.outstanding > 0]


async def queued_back_orders(product_id: int) -> list[BackOrder]:
    return (
        await BackOrder.filter(product_id=product_id, status__in=list(QUEUED_STATUSES))
        .order_by(*QUEUE_ORDER)
        .select_for_update()
    )


async def resync_queue(product: Product, changes: Changes) -> None:
    """Allocate the product's free units in queue order, then re-estimate the rest.

    Call with the product row locked, after its stock changed or its queue or supply moved.
    """
    queue = await queued_back_orders(product.id)
    today = changes.now.date()
    policy = product.policy
    free = product.on_hand - product.allocated
    if free > 0 and queue:
        _apply_grants(product, queue, free, changes)
        queue = [bo for bo in queue if bo.status in QUEUED_STATUSES]
    estimates = estimate_queue(
        [bo.entry for bo in queue], 0, await scheduled_supply(product.id), policy, today
    )
    for bo in queue:
        _apply_estimate(bo, estimates[bo.id], policy, changes)
    changes.product_changed(product)


async def place_in_queue(product: Product, new: list[BackOrder], changes: Changes) -> None:
    """Give new back orders their place: cheaply at the tail, else by a full resync."""
    tail = (
        await BackOrder.filter(product_id=product.id, status__in=list(QUEUED_STATUSES))
        .exclude(id__in=[bo.id for bo in new])
        .order_by("priority", "-placed_at", "-id")
        .first()
    )
    ordered = sorted(new, key=lambda bo: queue_key(bo.entry))
    at_tail = tail is None or queue_key(ordered[0].entry) > queue_key(tail.entry)
    free = product.on_hand - product.allocated
    if not at_tail or free > 0:
        await resync_queue(product, changes)
        return
    ahead = product.waiting - sum(bo.remaining_units for bo in new)
    estimates = estimate_queue(
        [bo.entry for bo in ordered],
        0,
        await scheduled_supply(product.id),
        product.policy,
        changes.now.date(),
        units_before=ahead,
        first_position=(tail.queue_position or 0) + 1 if tail else 1,
        floor=tail.estimated_ship_date if tail else None,
    )
    for bo in ordered:
        _apply_estimate(bo, estimates[bo.id], product.policy, changes)


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
    today = changes.now.date()
    for grant in allocate(free, [bo.entry for bo in queue]):
        bo = by_id[grant.back_order_id]
        bo.allocated += grant.units
        status = status_for_allocation(bo.quantity, bo.allocated)
        if status is not bo.status:
            bo.status = transition(bo.status, status)
        product.allocated += grant.units
        product.waiting -= grant.units
        changes.touch(bo, "allocated", "status")
        changes.record(bo, bo.status.value, units=grant.units, allocated=bo.allocated)
        if bo.status is Status.ALLOCATED:
            bo.allocated_at = changes.now
            bo.queue_position = None
            bo.units_ahead = 0
            _set_date(bo, allocated_ship_date(product.policy, today), True, changes)
            _apply_delay(bo, product.policy, changes)
            changes.touch(bo, "allocated_at", "queue_position", "units_ahead")


def _apply_estimate(bo: BackOrder, estimate: Estimate, policy: Policy, changes: Changes) -> None:
    if (bo.queue_position, bo.units_ahead) != (estimate.position, estimate.units_ahead):
        bo.queue_position = estimate.position
        bo.units_ahead = estimate.units_ahead
        changes.touch(bo, "queue_position", "units_ahead")
    _set_date(bo, estimate.ship_date, estimate.scheduled, changes)
    _apply_delay(bo, policy, changes)


def _apply_delay(bo: BackOrder, policy: Policy, changes: Changes) -> None:
    delayed = is_delayed(bo.estimated_ship_date, bo.promised_date, policy)
    if delayed != bo.delayed:
        bo.delayed = delayed
        changes.touch(bo, "delayed")
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
    if bo.estimated_ship_date != ship_date:
        previous = bo.estimated_ship_date
        bo.estimated_ship_date = ship_date
        changes.touch(bo, "estimated_ship_date")
        changes.record(bo, "DATE_CHANGED", previous=previous, estimated_ship_date=ship_date)
