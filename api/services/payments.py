"""Payments as an order's ledger (``api/domain/payments.py``): what is taken at order, the
balance as units are set aside, refunds and voids on cancellation, authorizations flagged
before they lapse and renewed by staff. Amounts and states only: no provider is called.

The authorization policy (validity, notice) is the shop's setting: ``configure`` sets it for
the process at start (the API and the worker)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from api.domain import payments as rules
from api.domain.errors import InvalidTransition, NotFound
from api.domain.identity import Actor, require_staff
from api.domain.model import QUEUED_STATUSES, ChargeKind, ChargeReason, ChargeState, PaymentMode
from api.services.changes import Changes
from api.services.clock import utcnow
from api.services.locks import lock_product
from api.store.models import BackOrder, Charge, OrderLine, Product

_POLICY = [rules.AuthorizationPolicy()]
SWEEP_BATCH = 200
"""Authorizations flagged or lapsed per sweep step (each in its own transaction)."""

C, A, CAP, V, R = (ChargeKind.CHARGE, ChargeKind.AUTHORIZATION, ChargeKind.CAPTURE,
                   ChargeKind.VOID, ChargeKind.REFUND)
OK, HELD = ChargeState.SUCCEEDED, ChargeState.AUTHORIZED


def configure(policy: rules.AuthorizationPolicy) -> None:
    _POLICY[0] = policy


def policy() -> rules.AuthorizationPolicy:
    return _POLICY[0]


def line_charge(product: Product, allocate_now: int, backorder: int) -> Decimal:
    """What an order line takes at order: its units in stock in full, its back-ordered
    units by the product's terms."""
    price: Decimal = product.price
    return price * allocate_now + rules.at_order(product.payment, price * backorder).charged


def set_at_order(back_order: BackOrder, product: Product) -> None:
    """A new back order's amounts taken and held at order, by the product's terms (before
    it is saved)."""
    taken = rules.at_order(product.payment, back_order.unit_price * back_order.quantity)
    back_order.paid_amount = taken.charged
    back_order.authorized_amount = taken.authorized


def placed(line: OrderLine, back_order: BackOrder | None, product: Product,
           changes: Changes) -> None:
    """The ledger of a new line and of its new back order (saved, with its amounts set by
    ``set_at_order``)."""
    if line.allocated_now:
        changes.ledger(line.order_id, None, C, ChargeReason.IN_STOCK,
                       line.unit_price * line.allocated_now, OK)
    if back_order is None:
        return
    if back_order.paid_amount:
        reason = (ChargeReason.DEPOSIT if product.payment_mode is PaymentMode.DEPOSIT
                  else ChargeReason.BACK_ORDER)
        changes.ledger(line.order_id, back_order.id, C, reason, back_order.paid_amount, OK)
    if back_order.authorized_amount:
        changes.ledger(line.order_id, back_order.id, A, ChargeReason.BACK_ORDER,
                       back_order.authorized_amount, HELD,
                       rules.valid_until(changes.now, policy().valid_days))


def on_allocation(back_order: BackOrder, changes: Changes) -> Decimal:
    """Its units set aside are paid for: capture from its authorization, else charge.
    Returns what was taken now (zero for a back order paid in full at order)."""
    taking = rules.on_allocation(back_order.unit_price, back_order.allocated,
                                 back_order.paid_amount, back_order.authorized_amount)
    if not taking.total:
        return taking.total
    order = back_order.order_id
    if taking.captured:
        changes.ledger(order, back_order.id, CAP, ChargeReason.BALANCE, taking.captured, OK)
        back_order.authorized_amount -= taking.captured
        if not back_order.authorized_amount:
            changes.authorization_spent(back_order.id)
    if taking.charged:
        changes.ledger(order, back_order.id, C, ChargeReason.BALANCE, taking.charged, OK)
    back_order.paid_amount += taking.total
    changes.touch(back_order, "paid_amount", "authorized_amount")
    changes.add_to_order(order, "amount_charged", taking.total)
    changes.taken[back_order.id] = changes.taken.get(back_order.id, rules.ZERO) + taking.total
    changes.record(back_order, "BALANCE_CHARGED", charged=taking.total,
                   captured=taking.captured, paid=back_order.paid_amount)
    return taking.total


def on_cancellation(back_order: BackOrder, changes: Changes) -> Decimal:
    """Refund what it paid for units that did not ship and void what it held. Returns the
    refund."""
    given = rules.on_cancellation(back_order.unit_price, back_order.shipped,
                                  back_order.paid_amount, back_order.authorized_amount)
    order = back_order.order_id
    if given.refunded:
        changes.ledger(order, back_order.id, R, ChargeReason.CANCELLATION, given.refunded, OK)
    if given.voided:
        changes.ledger(order, back_order.id, V, ChargeReason.CANCELLATION, given.voided, OK)
        back_order.authorized_amount = rules.ZERO
        changes.authorization_spent(back_order.id)
        changes.touch(back_order, "authorized_amount")
    return given.refunded


async def flag_expiring(now: datetime | None = None) -> int:
    """Open authorizations a notice before they lapse are flagged (their customer told);
    those past their validity lapse (what is owed is then charged when the units are set
    aside). Each in its own transaction under its product's lock, the rule checked again:
    two sweeps never flag one twice. Returns how many were flagged or lapsed."""
    now = now or utcnow()
    rule = policy()
    done, seen = 0, set[int]()
    while True:
        due = await Charge.filter(
            kind=A, state=HELD, valid_until__lte=now + rule.notice, id__not_in=sorted(seen)
        ).filter(Q(flagged_at=None) | Q(valid_until__lte=now)).order_by("id").limit(
            SWEEP_BATCH).values_list("id", flat=True)
        if not due:
            return done
        for found in due:
            charge_id = int(str(found))
            seen.add(charge_id)
            done += await _sweep_one(charge_id, now, rule)


async def _sweep_one(charge_id: int, now: datetime, rule: rules.AuthorizationPolicy) -> int:
    async with in_transaction():
        found = await Charge.get(id=charge_id)
        if found.back_order_id is None:  # (never: authorizations are for back orders)
            return 0
        _, back_order = await _lock(found.back_order_id)
        charge = await Charge.filter(id=charge_id).select_for_update().get()
        if charge.state is not HELD or charge.valid_until is None:
            return 0
        changes = Changes(now)
        if rules.lapsed(charge.valid_until, now):
            charge.state = ChargeState.EXPIRED
            charge.flagged_at = charge.flagged_at or now
            await charge.save(update_fields=["state", "flagged_at"])
            back_order.authorized_amount = rules.ZERO
            changes.touch(back_order, "authorized_amount")
            changes.record(back_order, "AUTHORIZATION_LAPSED", amount=charge.amount,
                           valid_until=charge.valid_until)
        elif charge.flagged_at is None and rules.notice_due(charge.valid_until, now,
                                                            rule.notice):
            charge.flagged_at = now
            await charge.save(update_fields=["flagged_at"])
            changes.record(back_order, "AUTHORIZATION_EXPIRING", amount=charge.amount,
                           valid_until=charge.valid_until)
        else:
            return 0
        await changes.flush()
        return 1


async def renew_authorization(actor: Actor | None, back_order_id: int,
                              now: datetime | None = None) -> BackOrder:
    """Staff record a new authorization of what an open back order still owes (the shop
    asked the customer's card again): the old one is closed, the new one holds the rest for
    the full validity."""
    require_staff(actor)
    changes = Changes(now or utcnow())
    async with in_transaction():
        product, back_order = await _lock(back_order_id)
        owed = back_order.unit_price * back_order.quantity - back_order.paid_amount
        if back_order.status not in QUEUED_STATUSES or owed <= 0:
            raise InvalidTransition("back order", "NOTHING_OWED"
                                    if back_order.status in QUEUED_STATUSES
                                    else back_order.status.value, "AUTHORIZATION_RENEWED")
        if product.payment_mode is not PaymentMode.ON_RELEASE:
            raise InvalidTransition("back order", f"PAID_{product.payment_mode.value}",
                                    "AUTHORIZATION_RENEWED")
        changes.authorization_spent(back_order.id)
        until = rules.valid_until(changes.now, policy().valid_days)
        changes.ledger(back_order.order_id, back_order.id, A, ChargeReason.RENEWAL, owed,
                       HELD, until)
        back_order.authorized_amount = owed
        changes.touch(back_order, "authorized_amount")
        changes.record(back_order, "AUTHORIZATION_RENEWED", amount=owed, valid_until=until)
        await changes.flush()
    return back_order


async def expiring(actor: Actor | None, limit: int) -> list[Charge]:
    """Staff's list: authorizations flagged before they lapse and not closed, and lapsed
    ones (the shop must renew them, or the balance is charged anew), soonest first."""
    require_staff(actor)
    return await Charge.filter(kind=A, state__in=[HELD, ChargeState.EXPIRED],
                               flagged_at__not_isnull=True).order_by(
        "valid_until", "id").limit(limit)


async def _lock(back_order_id: int) -> tuple[Product, BackOrder]:
    """The back order's product, then it (the lock order of every use case)."""
    found = await BackOrder.filter(id=back_order_id).only("id", "product_id").first()
    if found is None:
        raise NotFound("BackOrder", str(back_order_id))
    product = await lock_product(found.product_id)
    return product, await BackOrder.filter(id=back_order_id).select_for_update().get()
