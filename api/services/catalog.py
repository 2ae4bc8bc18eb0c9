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
from api.domain.payments import PaymentTerms
from api.domain.preorders import ReleaseChange, release_change, release_due
from api.domain.promises import Compensation
from api.services import inputs, releases
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
    pre_order_cap: int | None = None
    clear_pre_order_cap: bool = False
    early_bird_size: int | None = None
    clear_early_bird_size: bool = False
    early_bird_bonus: str | None = None
    """What an early bird gets, in the shop's words (shown to the customer)."""
    compensation: Compensation | None = None
    """The product's own compensation for late back orders (checked when it is made)."""
    clear_compensation: bool = False
    """Back to the shop's compensation policy (settings)."""
    payment: PaymentTerms | None = None
    """When back-ordered units are paid for (checked when it is made); new back orders
    take the new terms."""
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
    early_bird_bonus: str = "",
    payment: PaymentTerms | None = None,
) -> Product:
    require_staff(actor)
    policy = _checked(policy or Policy())
    sku = inputs.new_sku(sku)
    bonus = validation.text(early_bird_bonus, "earlyBirdBonus", inputs.EARLY_BIRD_BONUS,
                            required=False)
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
        early_bird_bonus=bonus,
        payment_mode=(payment or PaymentTerms()).mode,
        deposit_amount=payment.deposit_amount if payment else None,
        deposit_percent=payment.deposit_percent if payment else None,
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
    bonus = (None if change.early_bird_bonus is None else validation.text(
        change.early_bird_bonus, "earlyBirdBonus", inputs.EARLY_BIRD_BONUS, required=False))
    changes = Changes(now or utcnow())
    today = changes.now.date()
    async with in_transaction():
        product = await lock_product_by_sku(sku)
        before = product.policy
        policy = _checked(apply_change(before, change))
        moved_from, cleared = None, False
        if before.release_date != policy.release_date:
            pending = before.is_preorder(today) or release_due(
                before.release_date, product.released_at, today)
            if pending:
                match release_change(before.release_date, policy.release_date, today):
                    case ReleaseChange.RELEASE:  # released today, by the resync below
                        cleared = policy.release_date is None
                        policy = replace(policy, release_date=today)
                    case ReleaseChange.MOVED:
                        moved_from = before.release_date
            elif policy.is_preorder(today):
                product.released_at = None  # announced again: a new pre-order period
        for column, value in _policy_columns(policy).items():
            setattr(product, column, value)
        if bonus is not None:
            product.early_bird_bonus = bonus
        if change.discontinued is not None:
            product.discontinued = change.discontinued
        if change.clear_compensation:
            change = replace(change, compensation=None)
            product.compensation_after_days = None
            product.compensation_amount = product.compensation_percent = None
        if change.payment is not None:
            product.payment_mode = change.payment.mode
            product.deposit_amount = change.payment.deposit_amount
            product.deposit_percent = change.payment.deposit_percent
        if change.compensation is not None:
            product.compensation_after_days = change.compensation.after_days
            product.compensation_amount = change.compensation.amount
            product.compensation_percent = change.compensation.percent
        await resync_queue(product, changes, release_moved_from=moved_from)
        if cleared:  # released by the resync; then the date goes, as asked
            product.release_date = None
        await redate_allocated(product, changes)
        if (policy.early_bird_size or 0) > (before.early_bird_size or 0):
            await releases.mark_early_birds(product, changes)
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
    if change.clear_pre_order_cap:
        policy = replace(policy, pre_order_cap=None)
    if change.clear_early_bird_size:
        policy = replace(policy, early_bird_size=None)
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
    if policy.pre_order_cap is not None:
        validation.non_negative(policy.pre_order_cap, "preOrderCap")
    if policy.early_bird_size is not None:
        validation.positive(policy.early_bird_size, "earlyBirdSize")
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
        "pre_order_cap": policy.pre_order_cap,
        "early_bird_size": policy.early_bird_size,
    }
