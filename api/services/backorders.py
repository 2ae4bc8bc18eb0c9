"""A back order's own moves: cancel (with refund) and ship."""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.errors import InvalidTransition, NotFound, NotReleased
from api.domain.identity import Actor, require_actor, require_staff
from api.domain.model import QUEUED_STATUSES, Shipping, Status
from api.domain.shipping import (
    check_partial_shipment,
    check_ship_together,
    in_warehouse,
)
from api.domain.status import transition
from api.services import inputs, payments, releases
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_product
from api.services.queue import resync_queue
from api.store.models import BackOrder, Order, OrderLine, Product, Shipment


async def cancel_back_order(
    actor: Actor | None, back_order_id: int, reason: str = "", now: datetime | None = None
) -> BackOrder:
    """Cancel and refund in full; the units it held go to the next in line."""
    reason = inputs.reason(reason)
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, back_order = await owned(actor, back_order_id)
        assert actor is not None
        await cancel_locked(product, back_order, changes, reason,
                            "staff" if actor.is_staff else "customer")
    return back_order


async def cancel_locked(product: Product, back_order: BackOrder, changes: Changes,
                        reason: str, by: str, **detail: object) -> None:
    """Cancel a back order whose product and row this transaction holds locked: a full
    refund, its units to the next in line, the changes flushed."""
    was_queued = back_order.status in QUEUED_STATUSES
    back_order.status = transition(back_order.status, Status.CANCELLED)
    set_aside = in_warehouse(back_order.allocated, back_order.shipped)
    product.allocated -= set_aside
    if was_queued:
        product.waiting -= back_order.remaining_units
    # What it paid for units that did not ship; what was only held is voided.
    refund = payments.on_cancellation(back_order, changes)
    back_order.refunded_amount = refund
    back_order.queue_position = None
    back_order.units_ahead = 0
    back_order.closed_at = changes.now
    changes.touch(back_order, "status", "refunded_amount", "queue_position",
                  "units_ahead", "closed_at")
    changes.record(back_order, "CANCELLED", reason=reason, released=set_aside,
                   by=by, **detail)
    back_order.allocated = back_order.shipped  # (what shipped stays shipped)
    back_order.delayed = False
    changes.touch(back_order, "allocated", "delayed")
    changes.record(back_order, "REFUNDED", amount=refund)
    await Order.filter(id=back_order.order_id).update(
        amount_refunded=F("amount_refunded") + refund
    )
    await resync_queue(product, changes)
    if back_order.early_bird:  # the mark goes to the next pre-order in line
        back_order.early_bird = False
        changes.touch(back_order, "early_bird")
        await BackOrder.filter(id=back_order.id).update(early_bird=False)
        await releases.mark_early_birds(product, changes)
    await changes.flush()


async def set_back_order_priority(
    actor: Actor | None, back_order_id: int, priority: int, reason: str,
    now: datetime | None = None,
) -> BackOrder:
    """Staff move a waiting back order in its queue (a VIP, a replacement for a damaged
    unit): the whole queue's places, units ahead and dates follow; the history says who and
    why. The same priority again changes nothing."""
    staff = require_staff(actor)
    priority = inputs.priority(priority)
    reason = validation.text(reason, "reason", inputs.REASON_LENGTH)
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, back_order = await lock(back_order_id)
        if back_order.status not in QUEUED_STATUSES:
            raise InvalidTransition("back order", back_order.status.value, "REPRIORITIZED")
        if back_order.priority == priority:
            return back_order
        previous = back_order.priority
        # Saved before the resync, which reads the queue in order from the database.
        await BackOrder.filter(id=back_order.id).update(priority=priority)
        back_order.priority = priority
        changes.touch(back_order, "priority")
        changes.record(back_order, "PRIORITY_CHANGED", previous_priority=previous,
                       priority=priority, reason=reason, by=staff.subject,
                       previous_position=back_order.queue_position,
                       previous=back_order.estimated_ship_date)
        await resync_queue(product, changes)
        await changes.flush()
    return back_order


async def ship_back_order(
    actor: Actor | None,
    back_order_id: int,
    tracking_code: str = "",
    now: datetime | None = None,
) -> BackOrder:
    require_staff(actor)
    tracking = inputs.tracking_code(tracking_code)
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, back_order = await lock(back_order_id)
        back_order.status = transition(back_order.status, Status.SHIPPED)
        _check_released(product, changes)
        await _check_together(back_order.order_id, back_order.id)
        units = back_order.quantity - back_order.shipped
        await _ship(product, back_order, units, tracking, changes)
        back_order.closed_at = changes.now
        back_order.delayed = False
        changes.touch(back_order, "closed_at", "delayed")
        changes.record(back_order, "SHIPPED", tracking_code=tracking or None, units=units)
        await changes.flush()
    return back_order


async def ship_allocated_units(
    actor: Actor | None, back_order_id: int, tracking_code: str = "",
    now: datetime | None = None,
) -> BackOrder:
    """Staff ship the part of a partly allocated back order that is set aside and not
    shipped yet; the rest keeps its place in line. Not for an order that ships together."""
    require_staff(actor)
    tracking = inputs.tracking_code(tracking_code)
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, back_order = await lock(back_order_id)
        order = await Order.get(id=back_order.order_id)
        units = check_partial_shipment(back_order.status, back_order.allocated,
                                       back_order.shipped, order.shipping)
        _check_released(product, changes)
        await _ship(product, back_order, units, tracking, changes)
        changes.record(back_order, "PARTIALLY_SHIPPED", tracking_code=tracking or None,
                       units=units, shipped=back_order.shipped)
        await changes.flush()
    return back_order


async def set_order_shipping(actor: Actor | None, order_id: int, shipping: Shipping
                             ) -> Order:
    """The customer (or staff) choose how the order's parts ship; the same choice again
    changes nothing. Parts shipped already stay shipped."""
    async with in_transaction():
        order = await Order.filter(id=order_id).select_for_update().first()
        if order is None or not require_actor(actor).may_see(order.customer_id):
            raise NotFound("Order", str(order_id))
        if order.shipping is not shipping:
            order.shipping = shipping
            await order.save(update_fields=["shipping"])
    return order


def _check_released(product: Product, changes: Changes) -> None:
    release = product.release_date
    if release is not None and changes.now.date() < release:
        raise NotReleased(product.sku, release)


async def _check_together(order_id: int, but: int, what: str = "back order") -> None:
    """A part of a ship-together order ships once no other back order of it waits (the
    others are read only for such an order)."""
    [stored] = await Order.filter(id=order_id).values_list("shipping", flat=True)
    shipping = Shipping(str(stored))
    if shipping is not Shipping.SHIP_TOGETHER:
        return
    rows = await BackOrder.filter(order_id=order_id, id__not=but).values_list(
        "status", flat=True)
    check_ship_together(shipping, [Status(str(row)) for row in rows], what)


async def _ship(product: Product, back_order: BackOrder, units: int, tracking: str,
                changes: Changes) -> None:
    product.on_hand -= units
    product.allocated -= units
    back_order.shipped += units
    back_order.tracking_code = tracking or None
    changes.touch(back_order, "status", "shipped", "tracking_code")
    changes.product_changed(product)
    await Shipment.create(back_order_id=back_order.id, units=units,
                          tracking_code=tracking or None, shipped_at=changes.now)


async def ship_order_line(
    actor: Actor | None, line_id: int, tracking_code: str = "", now: datetime | None = None
) -> OrderLine:
    """Ship the units a line took from stock when it was placed (its back order ships apart)."""
    require_staff(actor)
    tracking = inputs.tracking_code(tracking_code)
    changes = Changes(now or utcnow())
    async with in_transaction():
        found = await OrderLine.filter(id=line_id).only("id", "product_id").first()
        if found is None:
            raise NotFound("OrderLine", str(line_id))
        product = await lock_product(found.product_id)
        line = await OrderLine.filter(id=line_id).select_for_update().get()
        if line.shipped_at is not None or line.allocated_now == 0:
            state = "SHIPPED" if line.shipped_at else "NOTHING_IN_STOCK"
            raise InvalidTransition("order line", state, "SHIPPED")
        await _check_together(line.order_id, 0, "order line")
        product.on_hand -= line.allocated_now
        product.allocated -= line.allocated_now
        line.shipped_at = changes.now
        line.tracking_code = tracking or None
        await line.save(update_fields=["shipped_at", "tracking_code"])
        changes.product_changed(product)
        await changes.flush()
    return line


async def owned(actor: Actor | None, back_order_id: int) -> tuple[Product, BackOrder]:
    """``lock``, for its customer or staff only (anyone else: not found)."""
    product, back_order = await lock(back_order_id)
    if not require_actor(actor).may_see(back_order.customer_id):
        raise NotFound("BackOrder", str(back_order_id))
    return product, back_order


async def lock(back_order_id: int) -> tuple[Product, BackOrder]:
    """Lock the back order's product first (the lock order of every use case), then it."""
    found = await BackOrder.filter(id=back_order_id).only("id", "product_id").first()
    if found is None:
        raise NotFound("BackOrder", str(back_order_id))
    product = await lock_product(found.product_id)
    back_order = await BackOrder.filter(id=back_order_id).select_for_update().first()
    if back_order is None:
        raise NotFound("BackOrder", str(back_order_id))
    return product, back_order
