"""The reorder suggestion: every term shown, never negative, monotone in demand and in the
service level, the net requirement rounded up when positive."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain import reorder
from api.domain.errors import InvalidInput

leads = st.integers(0, 120)
demands = st.floats(0, 10_000, allow_nan=False)
sigmas = st.floats(0, 500, allow_nan=False)
levels = st.floats(0.5, 0.999, exclude_min=True, exclude_max=True)
units = st.integers(0, 100_000)


def suggest(lead: int = 10, demand: float = 30.0, sigma: float = 2.0, level: float = 0.95,
            owed: int = 0, available: int = 0, coming: int = 0) -> reorder.ReorderSuggestion:
    return reorder.suggest(lead_time_days=lead, lead_time_demand=demand, sigma_daily=sigma,
                           level=level, open_backordered_units=owed, available_units=available,
                           scheduled_restock_units=coming)


def test_every_term_by_hand() -> None:
    # 9 days, 27.5 units forecast, sigma 2, 95%: z = 1.6449, safety = 1.6449 * 2 * 3 = 9.87
    found = suggest(lead=9, demand=27.5, sigma=2.0, level=0.95, owed=4, available=10, coming=6)
    assert found.z == pytest.approx(1.644854, abs=1e-6)
    assert found.safety_stock == pytest.approx(1.644854 * 2 * 3, abs=1e-5)
    assert found.net_requirement == pytest.approx(27.5 + 9.869122 + 4 - 10 - 6, abs=1e-5)
    assert found.quantity == 26  # 25.369... rounded up


def test_enough_on_hand_suggests_nothing() -> None:
    found = suggest(demand=5, sigma=1, available=50)
    assert found.net_requirement < 0 and found.quantity == 0


def test_a_whole_net_requirement_is_not_rounded_up_by_float_dust() -> None:
    assert (0.1 + 0.2) * 10 > 3
    assert suggest(lead=1, demand=(0.1 + 0.2) * 10, sigma=0.0).quantity == 3
    assert suggest(lead=0, demand=0.0, sigma=5.0, owed=3).quantity == 3


@pytest.mark.parametrize("level", [0.5, 0.999, 0.3, 1.0, float("nan"), float("inf")])
def test_a_service_level_outside_the_open_range_is_invalid(level: float) -> None:
    with pytest.raises(InvalidInput) as raised:
        suggest(level=level)
    assert raised.value.field == "serviceLevel"


@given(leads, demands, sigmas, levels, units, units, units)
def test_never_negative_and_the_sum_of_its_terms_when_positive(
        lead: int, demand: float, sigma: float, level: float, owed: int, available: int,
        coming: int) -> None:
    found = suggest(lead, demand, sigma, level, owed, available, coming)
    assert found.quantity >= 0
    terms = (found.lead_time_demand + found.safety_stock + found.open_backordered_units
             - found.available_units - found.scheduled_restock_units)
    assert found.net_requirement == terms
    assert found.safety_stock == pytest.approx(
        statistics.NormalDist().inv_cdf(level) * sigma * math.sqrt(lead))
    if found.quantity > 0:
        assert found.quantity - 1 < found.net_requirement + 1e-6
        assert found.net_requirement <= found.quantity + 1e-6
    else:
        assert found.net_requirement <= 1e-6


@given(leads, demands, demands, sigmas, levels, units, units, units)
def test_more_demand_never_asks_for_less(lead: int, a: float, b: float, sigma: float,
                                         level: float, owed: int, available: int,
                                         coming: int) -> None:
    low, high = sorted((a, b))
    assert (suggest(lead, low, sigma, level, owed, available, coming).quantity
            <= suggest(lead, high, sigma, level, owed, available, coming).quantity)


@given(leads, demands, sigmas, levels, levels, units, units, units)
def test_a_higher_service_level_never_asks_for_less(lead: int, demand: float, sigma: float,
                                                    a: float, b: float, owed: int,
                                                    available: int, coming: int) -> None:
    low, high = sorted((a, b))
    first = suggest(lead, demand, sigma, low, owed, available, coming)
    second = suggest(lead, demand, sigma, high, owed, available, coming)
    assert first.safety_stock <= second.safety_stock
    assert first.quantity <= second.quantity


@given(leads, demands, sigmas, levels, units, units, units, st.integers(1, 1000))
def test_more_stock_or_restocks_never_ask_for_more(lead: int, demand: float, sigma: float,
                                                   level: float, owed: int, available: int,
                                                   coming: int, extra: int) -> None:
    base = suggest(lead, demand, sigma, level, owed, available, coming).quantity
    assert suggest(lead, demand, sigma, level, owed, available + extra, coming).quantity <= base
    assert suggest(lead, demand, sigma, level, owed, available, coming + extra).quantity <= base
    assert suggest(lead, demand, sigma, level, owed + extra, available, coming).quantity >= base
