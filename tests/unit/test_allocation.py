"""Allocation of arriving units to the queue, and the plan for a new order line."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from api.domain.allocation import (
    Grant,
    LinePlan,
    allocate,
    check_customer_limit,
    orderable_units,
    plan_line,
)
from api.domain.errors import CustomerLimitReached, OutOfStock
from api.domain.model import Policy, QueueEntry, Stock
from tests.unit.strategies import START, queues

TODAY = date(2025, 3, 10)
PROPERTY = settings(max_examples=200, deadline=None)





units = st.integers(0, 200)
stocks = st.builds(
    Stock, on_hand=st.integers(0, 50), allocated=st.integers(0, 50), waiting=st.integers(0, 50)
)
policies = st.builds(
    Policy,
    allow_backorders=st.booleans(),
    cap=st.none() | st.integers(0, 60),
    release_date=st.none() | st.dates(TODAY - timedelta(days=30), TODAY + timedelta(days=30)),
)


def waiting(entry_id: int, quantity: int, allocated: int = 0) -> QueueEntry:
    return QueueEntry(entry_id, 0, START + timedelta(minutes=entry_id), quantity, allocated)


# allocate: examples


def test_head_is_filled_in_part_and_nobody_jumps_ahead() -> None:
    queue = [waiting(1, 5), waiting(2, 1)]

    assert allocate(3, queue) == [Grant(1, 3)]


def test_partly_allocated_head_gets_only_what_it_still_needs() -> None:
    queue = [waiting(1, 5, allocated=3), waiting(2, 4)]

    assert allocate(4, queue) == [Grant(1, 2), Grant(2, 2)]


def test_units_beyond_the_queue_are_not_granted() -> None:
    queue = [waiting(1, 2), waiting(2, 3)]

    assert allocate(100, queue) == [Grant(1, 2), Grant(2, 3)]


@pytest.mark.parametrize("arrived", [0, -4])
def test_no_units_means_no_grants(arrived: int) -> None:
    assert allocate(arrived, [waiting(1, 2)]) == []


def test_empty_queue_gets_nothing() -> None:
    assert allocate(10, []) == []


# allocate: properties


@PROPERTY
@given(units, queues)
def test_never_more_allocated_than_arrived(arrived: int, queue: list[QueueEntry]) -> None:
    grants = allocate(arrived, queue)
    remaining = {entry.id: entry.remaining for entry in queue}

    assert sum(grant.units for grant in grants) <= arrived
    for grant in grants:
        assert 0 < grant.units <= remaining[grant.back_order_id]


@PROPERTY
@given(units, queues)
def test_each_back_order_gets_at_most_one_grant(arrived: int, queue: list[QueueEntry]) -> None:
    ids = [grant.back_order_id for grant in allocate(arrived, queue)]

    assert len(ids) == len(set(ids))


@PROPERTY
@given(units, queues)
def test_nobody_behind_a_short_entry_gets_units(arrived: int, queue: list[QueueEntry]) -> None:
    granted = {grant.back_order_id: grant.units for grant in allocate(arrived, queue)}
    given_units = [granted.get(entry.id, 0) for entry in queue]

    for i, entry in enumerate(queue):
        if given_units[i] < entry.remaining:
            assert not any(given_units[i + 1 :])


@PROPERTY
@given(units, queues)
def test_grants_follow_queue_order(arrived: int, queue: list[QueueEntry]) -> None:
    ids = [grant.back_order_id for grant in allocate(arrived, queue)]

    assert ids == [entry.id for entry in queue[: len(ids)]]


@PROPERTY
@given(units, queues)
def test_units_are_conserved(arrived: int, queue: list[QueueEntry]) -> None:
    grants = allocate(arrived, queue)

    assert sum(g.units for g in grants) == min(arrived, sum(e.remaining for e in queue))


# plan_line: examples


def test_in_stock_line_is_allocated_now() -> None:
    plan = plan_line("SKU", 3, Stock(10, 2, 0), Policy(), False, TODAY)

    assert plan == LinePlan(allocate_now=3, backorder=0)


def test_shortfall_becomes_a_back_order() -> None:
    plan = plan_line("SKU", 7, Stock(10, 6, 0), Policy(), False, TODAY)

    assert plan == LinePlan(allocate_now=4, backorder=3)


def test_waiting_queue_is_owed_the_free_stock() -> None:
    plan = plan_line("SKU", 2, Stock(10, 0, 1), Policy(), False, TODAY)

    assert plan == LinePlan(allocate_now=0, backorder=2)


def test_pre_order_is_a_back_order_in_full_even_with_stock() -> None:
    policy = Policy(release_date=TODAY + timedelta(days=5))

    plan = plan_line("SKU", 3, Stock(10, 0, 0), policy, False, TODAY)

    assert plan == LinePlan(allocate_now=0, backorder=3)


def test_released_product_is_no_longer_a_pre_order() -> None:
    policy = Policy(release_date=TODAY)

    plan = plan_line("SKU", 3, Stock(10, 0, 0), policy, False, TODAY)

    assert plan == LinePlan(allocate_now=3, backorder=0)


def test_over_the_cap_is_out_of_stock() -> None:
    policy = Policy(cap=5)

    with pytest.raises(OutOfStock) as raised:
        plan_line("SKU", 4, Stock(0, 0, 2), policy, False, TODAY)

    assert raised.value.orderable == 3
    assert raised.value.requested == 4
    assert raised.value.sku == "SKU"
    assert raised.value.reason == "back-order cap reached"
    assert raised.value.code == "OUT_OF_STOCK"


def test_up_to_the_cap_is_accepted() -> None:
    plan = plan_line("SKU", 3, Stock(0, 0, 2), Policy(cap=5), False, TODAY)

    assert plan == LinePlan(allocate_now=0, backorder=3)


def test_cap_counts_free_stock_on_top() -> None:
    plan = plan_line("SKU", 6, Stock(4, 0, 0), Policy(cap=2), False, TODAY)

    assert plan == LinePlan(allocate_now=4, backorder=2)


def test_shortfall_without_back_orders_is_out_of_stock() -> None:
    policy = Policy(allow_backorders=False)

    with pytest.raises(OutOfStock) as raised:
        plan_line("SKU", 3, Stock(2, 0, 0), policy, False, TODAY)

    assert raised.value.orderable == 2
    assert raised.value.reason == "back orders not allowed"


def test_in_stock_line_without_back_orders_is_accepted() -> None:
    plan = plan_line("SKU", 2, Stock(2, 0, 0), Policy(allow_backorders=False), False, TODAY)

    assert plan == LinePlan(allocate_now=2, backorder=0)


def test_discontinued_product_is_out_of_stock_even_with_stock() -> None:
    with pytest.raises(OutOfStock) as raised:
        plan_line("SKU", 1, Stock(10, 0, 0), Policy(), True, TODAY)

    assert raised.value.orderable == 0
    assert raised.value.reason == "discontinued"


def test_over_allocated_stock_counts_as_no_free_stock() -> None:
    assert orderable_units(Stock(2, 5, 0), Policy(allow_backorders=False), False, TODAY) == 0


# plan_line: properties


@st.composite
def accepted_lines(
    draw: st.DrawFn,
    stock_strategy: st.SearchStrategy[Stock] = stocks,
    policy_strategy: st.SearchStrategy[Policy] = policies,
) -> tuple[int, Stock, Policy]:
    """A stock, a policy and a requested quantity that the product can take."""
    stock = draw(stock_strategy)
    policy = draw(policy_strategy)
    orderable = orderable_units(stock, policy, False, TODAY)
    assume(orderable > 0)
    return draw(st.integers(1, min(orderable, 100))), stock, policy


released = policies.map(lambda p: replace(p, release_date=None))
pre_orders = policies.map(lambda p: replace(p, release_date=TODAY + timedelta(days=1)))


@PROPERTY
@given(accepted_lines())
def test_plan_splits_the_whole_request(line: tuple[int, Stock, Policy]) -> None:
    requested, stock, policy = line

    plan = plan_line("SKU", requested, stock, policy, False, TODAY)

    assert plan.allocate_now + plan.backorder == requested
    assert plan.allocate_now >= 0
    assert plan.backorder >= 0


@PROPERTY
@given(st.integers(1, 100), stocks, policies, st.booleans())
def test_plan_raises_exactly_when_over_orderable(
    requested: int, stock: Stock, policy: Policy, discontinued: bool
) -> None:
    orderable = orderable_units(stock, policy, discontinued, TODAY)

    if requested > orderable:
        with pytest.raises(OutOfStock) as raised:
            plan_line("SKU", requested, stock, policy, discontinued, TODAY)
        assert raised.value.orderable == orderable
    else:
        plan_line("SKU", requested, stock, policy, discontinued, TODAY)


@PROPERTY
@given(accepted_lines(stocks.map(lambda s: replace(s, waiting=max(s.waiting, 1)))))
def test_never_allocates_now_while_back_orders_wait(line: tuple[int, Stock, Policy]) -> None:
    requested, stock, policy = line

    assert plan_line("SKU", requested, stock, policy, False, TODAY).allocate_now == 0


@PROPERTY
@given(accepted_lines())
def test_never_allocates_more_than_is_free(line: tuple[int, Stock, Policy]) -> None:
    requested, stock, policy = line

    plan = plan_line("SKU", requested, stock, policy, False, TODAY)

    assert plan.allocate_now <= max(stock.available, 0)


@PROPERTY
@given(accepted_lines(stocks.map(lambda s: replace(s, waiting=0)), released))
def test_free_stock_is_used_before_back_ordering(line: tuple[int, Stock, Policy]) -> None:
    requested, stock, policy = line

    plan = plan_line("SKU", requested, stock, policy, False, TODAY)

    assert plan.allocate_now == min(requested, max(stock.available, 0))


@PROPERTY
@given(accepted_lines(policy_strategy=pre_orders))
def test_pre_order_puts_everything_in_back_order(line: tuple[int, Stock, Policy]) -> None:
    requested, stock, policy = line

    assert plan_line("SKU", requested, stock, policy, False, TODAY) == LinePlan(0, requested)


@PROPERTY
@given(
    accepted_lines(
        stocks.map(lambda s: replace(s, waiting=min(s.waiting, 20))),
        released.map(lambda p: replace(p, allow_backorders=True, cap=(p.cap or 0) + 20)),
    )
)
def test_released_product_never_back_orders_past_the_cap(line: tuple[int, Stock, Policy]) -> None:
    requested, stock, policy = line
    assert policy.cap is not None

    plan = plan_line("SKU", requested, stock, policy, False, TODAY)

    assert stock.waiting + plan.backorder <= policy.cap


@PROPERTY
@given(
    accepted_lines(
        st.builds(Stock, on_hand=st.integers(1, 50), allocated=st.just(0), waiting=st.just(0)),
        released.map(lambda p: replace(p, allow_backorders=False)),
    )
)
def test_without_back_orders_a_released_product_never_back_orders(
    line: tuple[int, Stock, Policy],
) -> None:
    requested, stock, policy = line

    assert plan_line("SKU", requested, stock, policy, False, TODAY).backorder == 0


@PROPERTY
@given(st.integers(1, 100), stocks, policies)
def test_discontinued_product_always_refuses(requested: int, stock: Stock, policy: Policy) -> None:
    with pytest.raises(OutOfStock) as raised:
        plan_line("SKU", requested, stock, policy, True, TODAY)

    assert raised.value.reason == "discontinued"


limits = st.one_of(st.none(), st.integers(1, 20))


@PROPERTY
@given(limit=limits, held=st.integers(0, 25), backordered=st.integers(0, 25))
def test_the_customer_limit_passes_exactly_the_lines_that_stay_within_it(
        limit: int | None, held: int, backordered: int) -> None:
    policy = Policy(customer_limit=limit)
    within = limit is None or backordered == 0 or held + backordered <= limit
    if within:
        check_customer_limit("KB", policy, held, backordered)
        return
    with pytest.raises(CustomerLimitReached) as refused:
        check_customer_limit("KB", policy, held, backordered)
    assert (refused.value.limit, refused.value.held, refused.value.requested) == (
        limit, held, backordered)


@PROPERTY
@given(limit=st.integers(1, 20), orders=st.lists(st.integers(1, 6), max_size=15))
def test_orders_one_after_another_never_hold_more_than_the_limit(
        limit: int, orders: list[int]) -> None:
    held = 0
    for units in orders:
        try:
            check_customer_limit("KB", Policy(customer_limit=limit), held, units)
        except CustomerLimitReached:
            continue
        held += units
        assert held <= limit


def test_a_pre_order_cap_bounds_pre_orders_whatever_is_on_hand() -> None:
    policy = Policy(cap=100, pre_order_cap=5, release_date=TODAY + timedelta(days=3))

    assert orderable_units(Stock(50, 0, 3), policy, False, TODAY) == 2
    with pytest.raises(OutOfStock) as raised:
        plan_line("SKU", 3, Stock(50, 0, 3), policy, False, TODAY)
    assert raised.value.reason == "pre-order cap reached"
    released = replace(policy, release_date=TODAY)
    assert orderable_units(Stock(50, 0, 3), released, False, TODAY) == 97


def test_without_a_pre_order_cap_stock_and_the_back_order_cap_bound_pre_orders() -> None:
    policy = Policy(cap=10, release_date=TODAY + timedelta(days=3))

    # 50 on hand for the release plus 10 back-ordered, of which 4 are taken.
    assert orderable_units(Stock(50, 0, 4), policy, False, TODAY) == 56
    assert orderable_units(Stock(50, 0, 4), replace(policy, cap=None), False, TODAY) > 10**6
    limited_run = replace(policy, allow_backorders=False)
    assert orderable_units(Stock(50, 0, 4), limited_run, False, TODAY) == 46
    with pytest.raises(OutOfStock) as raised:
        plan_line("SKU", 47, Stock(50, 0, 4), limited_run, False, TODAY)
    assert raised.value.reason == "back orders not allowed"
