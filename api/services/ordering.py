"""Placing an order: allocate what is free, back-order the rest, never twice for one key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.allocation import LinePlan, check_customer_limit, plan_line
from api.domain.errors import Forbidden, IdempotencyConflict, InvalidInput
from api.domain.identity import Actor, require_actor
from api.domain.model import Shipping, Supply
from api.domain.money import charge
from api.domain.preorders import early_birds_to_mark
from api.services import inputs, messages, payments
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_products_by_sku
from api.services.queue import (
    estimate_at_tail,
    known_tail,
    remember_tail,
    resync_queue,
    tail_and_supply,
)
from api.store import statements
from api.store.models import BackOrder, Order, OrderLine, Product

MAX_LINES = 50
RESERVED_KEY_PREFIX = "waitlist-hold-"
"""The orders claimed holds become (``api/services/waitlist.py``) use these keys."""


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    replayed: bool
    """True when the idempotency key had placed this order before."""


async def place_order(
    actor: Actor | None,
    lines: Sequence[LineRequest],
    idempotency_key: str,
    currency: str,
    customer_id: str | None = None,
    priority: int = 0,
    now: datetime | None = None,
    shipping: Shipping = Shipping.SHIP_AS_ALLOCATED,
) -> PlacedOrder:
    signed_in = require_actor(actor)
    if customer_id is not None:
        inputs.customer_id(customer_id)
    customer = _customer(signed_in, customer_id, priority)
    key = validation.text(idempotency_key, "idempotencyKey", inputs.IDEMPOTENCY_KEY)
    if key.startswith(RESERVED_KEY_PREFIX):
        raise InvalidInput("idempotencyKey",
                           f"keys starting with {RESERVED_KEY_PREFIX} are the service's own")
    requested = _checked_lines(lines)
    digest = _request_hash(requested, priority, shipping)
    try:
        order = await _place(customer, key, digest, requested, currency, priority, now,
                             shipping)
    except IntegrityError:
        # The key placed an order before (a retry, or a twin that committed while this
        # one waited for the lock): answer with that order.
        if (earlier := await _replay(customer, key, digest)) is not None:
            return earlier
        raise
    return PlacedOrder(order, replayed=False)


async def _place(
    customer: str,
    key: str,
    digest: str,
    requested: list[LineRequest],
    currency: str,
    priority: int,
    now: datetime | None,
    shipping: Shipping,
) -> Order:
    async with in_transaction():
        # Read before the lock: nothing under the product lock waits for it.
        preferences = await messages.preferences_of(customer)
        products = await lock_products_by_sku(line.sku for line in requested)
        # Stamped under the lock: placement order is lock order, so a new back order
        # lands at the tail of its queue and needs no resync.
        changes = Changes(now or utcnow(), preferences)
        # First, so that a key used before fails on the unique (customer, key) before
        # anything else is decided.
        plans = _plans(requested, products, changes.now.date())
        order = await _insert_order(customer, key, digest, requested, plans, currency,
                                    products, changes.now, shipping)
        at_tail = await _place_lines(order, requested, plans, products, priority, changes)
        await changes.flush()
    for product, back_order, supply in at_tail:
        remember_tail(product, back_order, supply)
    return order


def _plans(requested: list[LineRequest], products: dict[str, Product], today: date
           ) -> list[LinePlan]:
    return [
        plan_line(line.sku, line.quantity, products[line.sku].stock,
                  products[line.sku].policy, products[line.sku].discontinued, today)
        for line in requested
    ]


async def _insert_order(customer: str, key: str, digest: str, requested: list[LineRequest],
                        plans: list[LinePlan], currency: str, products: dict[str, Product],
                        now: datetime, shipping: Shipping) -> Order:
    order = Order(
        customer_id=customer,
        idempotency_key=key,
        request_hash=digest,
        currency=currency,
        # What is taken now (the rest of a back order's price as its units are set aside,
        # by its product's payment terms: api/services/payments.py).
        amount_charged=sum(
            (payments.line_charge(products[line.sku], plan.allocate_now, plan.backorder)
             for line, plan in zip(requested, plans, strict=True)), Decimal(0)),
        amount_refunded=NO_MONEY,
        amount_credited=NO_MONEY,
        placed_at=now,
        shipping=shipping,
    )
    await statements.insert_returning_ids([order], "customer_id")
    return order


async def _place_lines(
    order: Order, requested: list[LineRequest], plans: list[LinePlan],
    products: dict[str, Product], priority: int, changes: Changes,
) -> list[tuple[Product, BackOrder, list[Supply]]]:
    """Allocate what is free, queue the rest: at the tail of each queue when it belongs
    there (the usual case, no rows but the new ones are written), else by a resync.

    Returns the back orders placed at a tail, with the supply their estimate used."""
    today = changes.now.date()
    await _check_customer_limits(order.customer_id, requested, plans, products)
    queues = {line.sku: known_tail(products[line.sku])
              or await tail_and_supply(products[line.sku].id)
              for line, plan in zip(requested, plans, strict=True) if plan.backorder}
    lines = [_order_line(order, products[line.sku], line.quantity, plan)
             for line, plan in zip(requested, plans, strict=True)]
    await statements.insert_returning_ids(lines, "product_id")
    by_id = {product.id: product for product in products.values()}
    back_orders, resync, waited, at_tail = [], [], {}, []
    early: list[BackOrder] = []
    for line in lines:
        product = by_id[line.product_id]
        product.allocated += line.allocated_now
        changes.product_changed(product)
        if line.backordered:
            waited[product.id] = product.waiting
            product.waiting += line.backordered
            back_order = _back_order(order, line, priority, changes.now)
            payments.set_at_order(back_order, product)
            back_order.pre_order = product.policy.is_preorder(today)
            if back_order.pre_order and product.early_bird_size is not None:
                early.append(back_order)
            tail, supply = queues[product.sku]
            if estimate_at_tail(product, back_order, tail, supply, today):
                at_tail.append((product, back_order, supply))
            else:
                resync.append(product)
            back_orders.append(back_order)
    for back_order in early:
        await _mark_if_early(by_id[back_order.product_id], back_order)
    await statements.insert_returning_ids(back_orders, "product_id")
    of_line = {back_order.line_id: back_order for back_order in back_orders}
    for line in lines:
        payments.placed(line, of_line.get(line.id), by_id[line.product_id], changes)
    for back_order in back_orders:
        changes.placed(back_order)
        if back_order.early_bird:  # (the PLACED message says so: api/domain/notices.py)
            changes.record(back_order, "EARLY_BIRD",
                           bonus=by_id[back_order.product_id].early_bird_bonus)
    for product in resync:
        await resync_queue(product, changes)
    for product_id, before in waited.items():
        _alert_if_cap_reached(by_id[product_id], before, changes)
    return at_tail


async def _mark_if_early(product: Product, back_order: BackOrder) -> None:
    """A new pre-order is an early bird while the product's marks are not all given
    (counted under the product's lock, so two orders cannot both take the last one)."""
    marked = await BackOrder.filter(product_id=product.id, early_bird=True).count()
    back_order.early_bird = early_birds_to_mark(product.early_bird_size, marked, 1) == 1


async def _check_customer_limits(customer: str, requested: list[LineRequest],
                                 plans: list[LinePlan], products: dict[str, Product]) -> None:
    """Under the products' locks, so two orders of one customer cannot both pass."""
    limited = {products[line.sku].id: (line.sku, plan.backorder)
               for line, plan in zip(requested, plans, strict=True)
               if plan.backorder and products[line.sku].customer_limit is not None}
    if not limited:
        return
    held = await statements.units_on_back_order(customer, list(limited))
    for product_id, (sku, backordered) in limited.items():
        check_customer_limit(sku, products[sku].policy, held.get(product_id, 0), backordered)


NO_MONEY = Decimal("0.00")
"""As the database gives it back (two places), so a new order reads as a stored one."""


def _order_line(order: Order, product: Product, quantity: int, plan: LinePlan) -> OrderLine:
    return OrderLine(
        order_id=order.id,
        product_id=product.id,
        quantity=quantity,
        unit_price=product.price,
        amount_charged=charge(product.price, quantity),
        allocated_now=plan.allocate_now,
        backordered=plan.backorder,
    )


def _back_order(order: Order, line: OrderLine, priority: int, now: datetime) -> BackOrder:
    """A new back order; at the tail it gets its place before it is saved."""
    return BackOrder(
        order_id=order.id,
        line_id=line.id,
        product_id=line.product_id,
        customer_id=order.customer_id,
        quantity=line.backordered,
        priority=priority,
        placed_at=now,
        unit_price=line.unit_price,
        refunded_amount=NO_MONEY,
        compensated_amount=NO_MONEY,
        estimated_ship_date=now.date(),
        promised_date=now.date(),
    )


def _alert_if_cap_reached(product: Product, before: int, changes: Changes) -> None:
    """Staff hear when the waiting units reach the cap that applies now: the pre-order
    cap while a pre-order has one, else the back-order cap."""
    pre_order = product.policy.is_preorder(changes.now.date())
    cap = (product.pre_order_cap if pre_order and product.pre_order_cap is not None
           else product.backorder_cap)
    if cap is not None and before < cap <= product.waiting:
        changes.staff_alert("CAP_REACHED", sku=product.sku, product_name=product.name,
                            cap=cap, waiting=product.waiting)


async def _replay(customer: str, key: str, digest: str) -> PlacedOrder | None:
    order = await Order.filter(customer_id=customer, idempotency_key=key).first()
    if order is None:
        return None
    if order.request_hash != digest:
        raise IdempotencyConflict(key)
    return PlacedOrder(order, replayed=True)


def _customer(actor: Actor, customer_id: str | None, priority: int) -> str:
    if not actor.is_staff:
        if customer_id not in (None, actor.subject):
            raise Forbidden("customers place orders for themselves only")
        if priority != 0:
            raise Forbidden("only staff set a priority")
        return actor.subject
    inputs.priority(priority)
    return validation.text(customer_id or actor.subject, "customerId", inputs.CUSTOMER_ID)


def _checked_lines(lines: Sequence[LineRequest]) -> list[LineRequest]:
    if not lines:
        raise InvalidInput("lines", "an order needs at least one line")
    if len(lines) > MAX_LINES:
        raise InvalidInput("lines", f"at most {MAX_LINES} lines")
    checked: list[LineRequest] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        sku = inputs.new_sku(line.sku, f"lines.{index}.sku")
        validation.positive(line.quantity, f"lines.{index}.quantity")
        if sku in seen:
            raise InvalidInput(f"lines.{index}.sku", "each product once per order")
        seen.add(sku)
        checked.append(LineRequest(sku, line.quantity))
    return checked


def _request_hash(lines: list[LineRequest], priority: int, shipping: Shipping) -> str:
    request: dict[str, object] = {
        "lines": sorted((line.sku, line.quantity) for line in lines), "priority": priority}
    if shipping is not Shipping.SHIP_AS_ALLOCATED:  # (the default keeps older keys' hashes)
        request["shipping"] = shipping.value
    body = json.dumps(request)
    return hashlib.sha256(body.encode()).hexdigest()
