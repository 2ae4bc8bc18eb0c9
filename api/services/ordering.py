"""Placing an order: allocate what is free, back-order the rest, never twice for one key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.allocation import plan_line
from api.domain.errors import Forbidden, IdempotencyConflict, InvalidInput
from api.domain.identity import Actor, require_actor
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_products_by_sku
from api.services.queue import place_in_queue
from api.store.models import BackOrder, Order, OrderLine, Product

MAX_LINES = 50


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
) -> PlacedOrder:
    signed_in = require_actor(actor)
    customer = _customer(signed_in, customer_id, priority)
    key = validation.text(idempotency_key, "idempotencyKey", 128)
    requested = _checked_lines(lines)
    digest = _request_hash(requested, priority)
    if (earlier := await _replay(customer, key, digest)) is not None:
        return earlier
    try:
        order = await _place(customer, key, digest, requested, currency, priority, now)
    except IntegrityError:
        # A concurrent request with the same key committed first.
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
) -> Order:
    changes = Changes(now or utcnow())
    today = changes.now.date()
    async with in_transaction():
        products = await lock_products_by_sku(line.sku for line in requested)
        # A twin request that committed while we waited makes the order's INSERT fail on
        # the (customer, key) unique constraint; place_order then answers with its order.
        plans = [
            plan_line(
                line.sku,
                line.quantity,
                products[line.sku].stock,
                products[line.sku].policy,
                products[line.sku].discontinued,
                today,
            )
            for line in requested
        ]
        charged = sum(
            (products[line.sku].price * line.quantity for line in requested), Decimal(0)
        )
        order = await Order.create(
            customer_id=customer,
            idempotency_key=key,
            request_hash=digest,
            currency=currency,
            amount_charged=charged,
            placed_at=changes.now,
        )
        new_by_product: dict[int, list[BackOrder]] = {}
        for line, plan in zip(requested, plans, strict=True):
            product = products[line.sku]
            order_line = await OrderLine.create(
                order=order,
                product=product,
                quantity=line.quantity,
                unit_price=product.price,
                amount_charged=product.price * line.quantity,
                allocated_now=plan.allocate_now,
                backordered=plan.backorder,
            )
            product.allocated += plan.allocate_now
            changes.product_changed(product)
            if plan.backorder:
                back_order = await _open_back_order(order, order_line, product, plan.backorder,
                                                    priority, changes)
                new_by_product.setdefault(product.id, []).append(back_order)
        for product in products.values():
            if product.id in new_by_product:
                before = product.waiting - sum(bo.quantity for bo in new_by_product[product.id])
                await place_in_queue(product, new_by_product[product.id], changes)
                _alert_if_cap_reached(product, before, changes)
        await changes.flush()
    return order


def _alert_if_cap_reached(product: Product, before: int, changes: Changes) -> None:
    cap = product.backorder_cap
    if cap is not None and before < cap <= product.waiting:
        changes.staff_alert("CAP_REACHED", sku=product.sku, product_name=product.name,
                            cap=cap, waiting=product.waiting)


async def _open_back_order(
    order: Order,
    line: OrderLine,
    product: Product,
    quantity: int,
    priority: int,
    changes: Changes,
) -> BackOrder:
    product.waiting += quantity
    back_order = await BackOrder.create(
        order=order,
        line=line,
        product=product,
        customer_id=order.customer_id,
        quantity=quantity,
        priority=priority,
        placed_at=changes.now,
        unit_price=line.unit_price,
        estimated_ship_date=changes.now.date(),
        promised_date=changes.now.date(),
    )
    changes.placed(back_order)
    return back_order


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
    if priority < -100 or priority > 100:
        raise InvalidInput("priority", "must be between -100 and 100")
    return validation.text(customer_id or actor.subject, "customerId", 128)


def _checked_lines(lines: Sequence[LineRequest]) -> list[LineRequest]:
    if not lines:
        raise InvalidInput("lines", "an order needs at least one line")
    if len(lines) > MAX_LINES:
        raise InvalidInput("lines", f"at most {MAX_LINES} lines")
    checked: list[LineRequest] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        sku = validation.sku(line.sku, f"lines.{index}.sku")
        validation.positive(line.quantity, f"lines.{index}.quantity")
        if sku in seen:
            raise InvalidInput(f"lines.{index}.sku", "each product once per order")
        seen.add(sku)
        checked.append(LineRequest(sku, line.quantity))
    return checked


def _request_hash(lines: list[LineRequest], priority: int) -> str:
    body = json.dumps(
        {"lines": sorted((line.sku, line.quantity) for line in lines), "priority": priority}
    )
    return hashlib.sha256(body.encode()).hexdigest()
