"""Allocation of arriving units to the queue, and the plan for a new order line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from api.domain.errors import CustomerLimitReached, OutOfStock
from api.domain.model import Policy, QueueEntry, Stock


@dataclass(frozen=True)
class Grant:
    back_order_id: int
    units: int


def head_first(units: int, wants: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Give ``units`` to ``wants`` ((id, units wanted), in line order), head first: the
    head may be served in part, and nobody behind it gets a unit while it is short."""
    given: list[tuple[int, int]] = []
    left = max(units, 0)
    for key, wanted in wants:
        if left == 0:
            break
        take = min(left, wanted)
        if take > 0:
            given.append((key, take))
            left -= take
    return given


def allocate(units: int, queue: Sequence[QueueEntry]) -> list[Grant]:
    """Give ``units`` to ``queue`` (already in queue order), head first (``head_first``)."""
    return [Grant(key, take)
            for key, take in head_first(units, [(e.id, e.remaining) for e in queue])]


@dataclass(frozen=True)
class LinePlan:
    allocate_now: int
    backorder: int


def orderable_units(stock: Stock, policy: Policy, discontinued: bool, today: date) -> int:
    """How many units an order could take now, in stock plus as a back order.

    A pre-order is a back order in full: the units on hand wait for the release, and the
    pre-orders waiting are counted against them. A pre-order cap bounds the units on
    pre-order whatever is on hand; without one, the units on hand plus the back-order cap
    (none when back orders are not allowed) do, as for a released product."""
    if discontinued:
        return 0
    if policy.is_preorder(today):
        if policy.pre_order_cap is not None:
            return max(policy.pre_order_cap - stock.waiting, 0)
        if policy.allow_backorders and policy.cap is None:
            return 2**31 - 1
        beyond = policy.cap if policy.allow_backorders and policy.cap is not None else 0
        return max(max(stock.available, 0) + beyond - stock.waiting, 0)
    free = max(stock.available, 0) if stock.waiting == 0 else 0
    if not policy.allow_backorders:
        return free
    if policy.cap is None:
        return 2**31 - 1
    return free + max(policy.cap - stock.waiting, 0)


def plan_line(
    sku: str, requested: int, stock: Stock, policy: Policy, discontinued: bool, today: date
) -> LinePlan:
    """Split a requested quantity into units allocated now and units back-ordered.

    Waiting back orders are owed every free unit, so a new order takes stock only when the
    queue is empty. A pre-order is a back order in full: the units on hand are allocated
    to the pre-orders in queue order on release (``api/services/releases.py``).
    """
    orderable = orderable_units(stock, policy, discontinued, today)
    if requested > orderable:
        reason = _refusal_reason(policy, discontinued, today)
        raise OutOfStock(sku, requested, orderable, reason)
    if policy.is_preorder(today):
        return LinePlan(0, requested)
    free = max(stock.available, 0) if stock.waiting == 0 else 0
    now = min(requested, free)
    return LinePlan(now, requested - now)


def _refusal_reason(policy: Policy, discontinued: bool, today: date) -> str:
    if discontinued:
        return "discontinued"
    if policy.is_preorder(today) and policy.pre_order_cap is not None:
        return "pre-order cap reached"
    if not policy.allow_backorders:
        return "back orders not allowed"
    return "back-order cap reached"


def check_customer_limit(sku: str, policy: Policy, held: int, backordered: int) -> None:
    """Refuse a line whose back-ordered units would take its customer past the product's
    ``customer_limit``, counting the units of the customer's open back orders (``held``:
    waiting, part or fully allocated, not shipped or cancelled). Units taken from free stock
    are not back orders and do not count; a line that back-orders nothing always passes."""
    limit = policy.customer_limit
    if limit is None or backordered == 0:
        return
    if held + backordered > limit:
        raise CustomerLimitReached(sku, limit, held, backordered)
