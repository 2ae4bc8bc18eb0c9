"""Products, their back-order policy and their stock."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.errors import DuplicateSku, InsufficientStock, InvalidInput
from api.domain.identity import Actor, require_staff
from api.domain.model import Policy
from api.domain.promises import Compensation
from api.services import inputs
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_product_by_sku
from api.services.queue import redate_allocated, resync_queue
from api.store.models import Product


@dataclass(frozen=True)
class PolicyChange:
    """Fields to change in a policy; ``None`` keeps the current value."""

    allow_backorders: bool | None = None
    cap: int | None = None
    clear_cap: bool = False
    lead_time_days: int | None = None
    handling_days: int | None = None
    release_date: date | None = None
    clear_release_date: bool = False
    delay_grace_days: int | None = None
    low_stock_threshold: int | None = None
    customer_limit: int | None = None
    clear_customer_limit: bool = False
    compensation: Compensation | None = None
    """The product's own compensation for late back orders (checked when it is made)."""
    clear_compensation: bool = False
    """Back to the shop's compensation policy (settings)."""
    discontinued: bool | None = None


async def create_product(
    actor: Actor | None,
    sku: str,
    name: str,
    price: Decimal,
    digital: bool = False,
    on_hand: int = 0,
    policy: Policy | None = None,
    compensation: Compensation | None = None,
) -> Product:
    require_staff(actor)
    policy = _checked(policy or Policy())
    sku = inputs.new_sku(sku)
    row: dict[str, Any] = dict(
        sku=sku,
        name=validation.text(name, "name", inputs.NAME),
        price=validation.price(price),
        digital=digital,
        on_hand=validation.non_negative(on_hand, "onHand"),
        **_policy_columns(policy),
        compensation_after_days=compensation.after_days if compensation else None,
        compensation_amount=compensation.amount if compensation else None,
        compensation_percent=compensation.percent if compensation else None,
    )
    if await Product.filter(sku=sku).exists():
        raise DuplicateSku(sku)
    try:
        async with in_transaction():
            return await Product.create(**row)
    except IntegrityError:
        raise DuplicateSku(sku) from None


async def update_backorder_policy(
    actor: Actor | None, sku: str, change: PolicyChange, now: datetime | None = None
) -> Product:
    require_staff(actor)
    sku = inputs.sku(sku)
    async with in_transaction():
        product = await lock_product_by_sku(sku)
        policy = _checked(apply_change(product.policy, change))
        for column, value in _policy_columns(policy).items():
            setattr(product, column, value)
        if change.discontinued is not None:
            product.discontinued = change.discontinued
        if change.clear_compensation:
            change = replace(change, compensation=None)
            product.compensation_after_days = None
            product.compensation_amount = product.compensation_percent = None
        if change.compensation is not None:
            product.compensation_after_days = change.compensation.after_days
            product.compensation_amount = change.compensation.amount
            product.compensation_percent = change.compensation.percent
        changes = Changes(now or utcnow())
        await resync_queue(product, changes)
        await redate_allocated(product, changes)
        await changes.flush()
    return product


async def adjust_stock(
    actor: Actor | None, sku: str, delta: int, reason: str = "", now: datetime | None = None
) -> Product:
    """Count stock in or out. Units counted in go to waiting back orders first."""
    require_staff(actor)
    sku = inputs.sku(sku)
    if delta == 0:
        raise InvalidInput("delta", "must not be zero")
    inputs.reason(reason)
    async with in_transaction():
        product = await lock_product_by_sku(sku)
        free = product.stock.available
        if delta < 0 and -delta > free:
            raise InsufficientStock(product.sku, delta, free)
        if product.on_hand + delta > validation.MAX_QUANTITY * 100:
            raise InvalidInput("delta", "stock would be too large")
        product.on_hand += delta
        changes = Changes(now or utcnow())
        await resync_queue(product, changes)
        await changes.flush()
    return product


def apply_change(policy: Policy, change: PolicyChange) -> Policy:
    updates = {
        f.name: getattr(change, f.name)
        for f in fields(Policy)
        if getattr(change, f.name, None) is not None
    }
    policy = replace(policy, **updates)
    if change.clear_cap:
        policy = replace(policy, cap=None)
    if change.clear_release_date:
        policy = replace(policy, release_date=None)
    if change.clear_customer_limit:
        policy = replace(policy, customer_limit=None)
    return policy


def _checked(policy: Policy) -> Policy:
    if policy.cap is not None:
        validation.non_negative(policy.cap, "backorderCap")
    validation.days(policy.lead_time_days, "leadTimeDays")
    validation.days(policy.handling_days, "handlingDays")
    validation.days(policy.delay_grace_days, "delayGraceDays")
    validation.non_negative(policy.low_stock_threshold, "lowStockThreshold")
    if policy.customer_limit is not None:
        validation.positive(policy.customer_limit, "customerLimit")
    return policy


def _policy_columns(policy: Policy) -> dict[str, object]:
    return {
        "allow_backorders": policy.allow_backorders,
        "backorder_cap": policy.cap,
        "lead_time_days": policy.lead_time_days,
        "handling_days": policy.handling_days,
        "release_date": policy.release_date,
        "delay_grace_days": policy.delay_grace_days,
        "low_stock_threshold": policy.low_stock_threshold,
        "customer_limit": policy.customer_limit,
    }
