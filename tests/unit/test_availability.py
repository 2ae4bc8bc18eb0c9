"""What a storefront shows for a product."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.allocation import LinePlan, plan_line
from api.domain.availability import availability
from api.domain.errors import OutOfStock
from api.domain.model import Availability, Policy, Stock

TODAY = date(2025, 3, 10)
PROPERTY = settings(max_examples=200, deadline=None)


def test_plenty_of_free_stock_is_in_stock() -> None:
    shown = availability(Stock(20, 4, 0), Policy(low_stock_threshold=5), False, TODAY)

    assert shown is Availability.IN_STOCK


def test_one_above_the_threshold_is_in_stock() -> None:
    shown = availability(Stock(6, 0, 0), Policy(low_stock_threshold=5), False, TODAY)

    assert shown is Availability.IN_STOCK


def test_free_stock_at_the_threshold_is_low_stock() -> None:
    shown = availability(Stock(8, 3, 0), Policy(low_stock_threshold=5), False, TODAY)

    assert shown is Availability.LOW_STOCK


def test_single_free_unit_is_low_stock() -> None:
    shown = availability(Stock(1, 0, 0), Policy(low_stock_threshold=5), False, TODAY)

    assert shown is Availability.LOW_STOCK


def test_no_free_stock_with_back_orders_allowed_is_backorderable() -> None:
    shown = availability(Stock(5, 5, 0), Policy(), False, TODAY)

    assert shown is Availability.BACKORDERABLE


def test_stock_owed_to_waiting_back_orders_is_backorderable() -> None:
    shown = availability(Stock(10, 0, 3), Policy(), False, TODAY)

    assert shown is Availability.BACKORDERABLE


def test_below_the_cap_is_backorderable() -> None:
    shown = availability(Stock(0, 0, 9), Policy(cap=10), False, TODAY)

    assert shown is Availability.BACKORDERABLE


def test_unreleased_product_is_preorder() -> None:
    policy = Policy(release_date=TODAY + timedelta(days=1))

    assert availability(Stock(0, 0, 0), policy, False, TODAY) is Availability.PREORDER


def test_unreleased_product_with_stock_is_still_preorder() -> None:
    policy = Policy(release_date=TODAY + timedelta(days=1))

    assert availability(Stock(50, 0, 0), policy, False, TODAY) is Availability.PREORDER


def test_product_released_today_is_not_preorder() -> None:
    policy = Policy(release_date=TODAY)

    assert availability(Stock(50, 0, 0), policy, False, TODAY) is Availability.IN_STOCK


def test_cap_reached_is_out_of_stock() -> None:
    shown = availability(Stock(0, 0, 10), Policy(cap=10), False, TODAY)

    assert shown is Availability.OUT_OF_STOCK


def test_cap_reached_on_a_pre_order_is_out_of_stock() -> None:
    policy = Policy(cap=10, release_date=TODAY + timedelta(days=3))

    assert availability(Stock(0, 0, 10), policy, False, TODAY) is Availability.OUT_OF_STOCK


def test_no_stock_and_back_orders_not_allowed_is_out_of_stock() -> None:
    shown = availability(Stock(3, 3, 0), Policy(allow_backorders=False), False, TODAY)

    assert shown is Availability.OUT_OF_STOCK


def test_stock_without_back_orders_is_still_in_stock() -> None:
    shown = availability(Stock(30, 0, 0), Policy(allow_backorders=False), False, TODAY)

    assert shown is Availability.IN_STOCK


def test_discontinued_is_out_of_stock_even_with_stock() -> None:
    shown = availability(Stock(30, 0, 0), Policy(), True, TODAY)

    assert shown is Availability.OUT_OF_STOCK


stocks = st.builds(
    Stock, on_hand=st.integers(0, 30), allocated=st.integers(0, 30), waiting=st.integers(0, 30)
)
policies = st.builds(
    Policy,
    allow_backorders=st.booleans(),
    cap=st.none() | st.integers(0, 30),
    release_date=st.none() | st.dates(TODAY - timedelta(days=5), TODAY + timedelta(days=5)),
    low_stock_threshold=st.integers(0, 10),
)


@PROPERTY
@given(stocks, policies, st.booleans())
def test_out_of_stock_exactly_when_one_unit_is_refused(
    stock: Stock, policy: Policy, discontinued: bool
) -> None:
    shown = availability(stock, policy, discontinued, TODAY)

    try:
        plan_line("SKU", 1, stock, policy, discontinued, TODAY)
    except OutOfStock:
        assert shown is Availability.OUT_OF_STOCK
    else:
        assert shown is not Availability.OUT_OF_STOCK


@PROPERTY
@given(stocks, policies)
def test_shown_availability_matches_how_one_unit_is_planned(stock: Stock, policy: Policy) -> None:
    shown = availability(stock, policy, False, TODAY)
    if shown is Availability.OUT_OF_STOCK:
        return

    plan = plan_line("SKU", 1, stock, policy, False, TODAY)

    if shown in (Availability.IN_STOCK, Availability.LOW_STOCK):
        assert plan == LinePlan(allocate_now=1, backorder=0)
    else:
        assert plan == LinePlan(allocate_now=0, backorder=1)


@pytest.mark.parametrize("value", list(Availability))
def test_availability_values_are_their_names(value: Availability) -> None:
    assert value.value == value.name
