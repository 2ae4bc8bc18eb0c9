"""A product's demand forecast and reorder suggestion, on orders placed through the use cases
over past days, every figure worked out by hand below, on SQLite and PostgreSQL.

Now is 2026-11-20 12:00 UTC: the history runs to Nov 19, the forecast from Nov 20.
KB: 4 on hand, lead time 5 days.

    Nov 14 10:00  alice KB x2  -> from stock
    Nov 14 15:00  bob   KB x1  -> from stock (1 left)
    Nov 16 09:00  carol KB x4  -> 1 from stock, back order for 3
    Nov 19 23:00  dave  KB x1  -> back order for 1 (still Nov 19 in UTC)
    Nov 20 08:00  alice KB x3  -> back order for 3 (today: not in the history)
    Nov 20 10:00  restocks: 6 expected Nov 25 (today + 5: counted), 10 expected Nov 26 (not)

Series Nov 14..19: 3 0 4 0 0 1 (6 days, under 14: MEAN_FALLBACK).
    mean 8/6 = 4/3; sample variance (26 - 6 * 16/9) / 5 = 46/15; sigma = sqrt(46/15) = 1.7512
    (above Poisson's sqrt(4/3) = 1.1547)
Reorder at 95%: lead-time demand 5 * 4/3 = 20/3; safety 1.644854 * sqrt(46/15) * sqrt(5)
    = 6.4409; open back-ordered 3 + 1 + 3 = 7; available 0; restocks 6
    net 6.6667 + 6.4409 + 7 - 0 - 6 = 14.1076 -> 15.
Then 10 counted in at 13:00: the 7 waiting units are allocated, 3 are left available:
    net 6.6667 + 6.4409 + 0 - 3 - 6 = 4.1076 -> 5; at 80% (z 0.841621, safety 3.2956) -> 1.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api.domain.forecast import Method
from api.domain.identity import Actor, Role
from api.domain.model import Policy
from api.services import catalog, forecast, ordering, restocks
from api.services.clock import utcnow
from tests.integration.conftest import ALICE, STAFF, Run

BOB = Actor("bob", Role.CUSTOMER)
CAROL = Actor("carol", Role.CUSTOMER)
DAVE = Actor("dave", Role.CUSTOMER)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SIGMA = math.sqrt(46 / 15)
Z95, Z80 = 1.6448536, 0.8416212


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


async def _order(actor: Actor, sku: str, quantity: int, when: datetime) -> None:
    await ordering.place_order(actor, [ordering.LineRequest(sku, quantity)],
                               f"{actor.subject}-{when.isoformat()}", "USD", now=when)


async def given_a_short_week() -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"), on_hand=4,
                                 policy=Policy(lead_time_days=5))
    await _order(ALICE, "KB", 2, at(14, 10))
    await _order(BOB, "KB", 1, at(14, 15))
    await _order(CAROL, "KB", 4, at(16, 9))
    await _order(DAVE, "KB", 1, at(19, 23))
    await _order(ALICE, "KB", 3, at(20, 8))
    await restocks.schedule_restock(STAFF, "KB", 6, date(2026, 11, 25), now=at(20, 10))
    await restocks.schedule_restock(STAFF, "KB", 10, date(2026, 11, 26), now=at(20, 10))


async def test_the_series_is_the_units_ordered_per_day_and_too_short_for_holt_winters(
        db: str) -> None:
    await given_a_short_week()
    found = await forecast.demand_forecast(STAFF, "KB", 3, now=NOW)
    fc = found.forecast
    assert (fc.history_first, found.history_last) == (date(2026, 11, 14), date(2026, 11, 19))
    assert fc.history == (3, 0, 4, 0, 0, 1)
    assert fc.method is Method.MEAN_FALLBACK and "only 6 days" in fc.reason
    assert fc.sigma == pytest.approx(SIGMA)
    assert [d.day for d in fc.days] == [date(2026, 11, 20), date(2026, 11, 21),
                                        date(2026, 11, 22)]
    assert all(d.mean == pytest.approx(4 / 3) for d in fc.days)
    sd = SIGMA * math.sqrt(1 + 1 / 6)
    assert fc.days[0].intervals[1].high == pytest.approx(4 / 3 + 1.959964 * sd, rel=1e-6)
    assert fc.days[0].intervals[1].low == 0.0  # 4/3 - 1.96 * 1.89 is below zero


async def test_every_term_of_the_reorder_suggestion(db: str) -> None:
    await given_a_short_week()
    found = await forecast.reorder_suggestion(STAFF, "KB", 0.95, now=NOW)
    s = found.suggestion
    assert found.restocks_until == date(2026, 11, 25)
    assert (s.lead_time_days, s.open_backordered_units, s.available_units,
            s.scheduled_restock_units) == (5, 7, 0, 6)
    assert s.lead_time_demand == pytest.approx(20 / 3)
    assert s.z == pytest.approx(Z95, abs=1e-6)
    assert s.safety_stock == pytest.approx(Z95 * SIGMA * math.sqrt(5), abs=1e-5)
    assert s.safety_stock == pytest.approx(6.4409, abs=1e-4)
    assert s.net_requirement == pytest.approx(14.1076, abs=1e-4)
    assert s.quantity == 15


async def test_stock_counted_in_moves_from_owed_to_available(db: str) -> None:
    await given_a_short_week()
    await catalog.adjust_stock(STAFF, "KB", 10, "delivery", now=at(20, 13))
    s = (await forecast.reorder_suggestion(STAFF, "KB", 0.95, now=NOW)).suggestion
    assert (s.open_backordered_units, s.available_units, s.scheduled_restock_units) == (0, 3, 6)
    assert s.net_requirement == pytest.approx(4.1076, abs=1e-4) and s.quantity == 5
    s80 = (await forecast.reorder_suggestion(STAFF, "KB", 0.8, now=NOW)).suggestion
    assert s80.safety_stock == pytest.approx(Z80 * SIGMA * math.sqrt(5), abs=1e-5)
    assert s80.net_requirement == pytest.approx(0.9623, abs=1e-4) and s80.quantity == 1


async def test_four_weeks_of_orders_are_enough_for_holt_winters(db: str) -> None:
    # Given one order a day for four weeks: 2 units on weekdays, 6 on Saturdays, none on
    # Sundays (Nov 2026: the 1st is a Sunday)
    await catalog.create_product(STAFF, "MUG", "Mug", Decimal("4.50"), on_hand=1000)
    start = date(2026, 10, 23)  # a Friday, 28 days before Nov 20
    pattern = []
    for i in range(28):
        day = start + timedelta(days=i)
        units = {5: 6, 6: 0}.get(day.weekday(), 2)
        pattern.append(units)
        if units:
            await _order(ALICE, "MUG", units,
                         datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    found = (await forecast.demand_forecast(STAFF, "MUG", 14, now=NOW)).forecast
    assert found.history_first == start and found.history == tuple(pattern)
    assert found.method is Method.HOLT_WINTERS and found.smoothing is not None
    # A noiseless weekly pattern: every day forecast within half a unit of its weekday's
    by_day = {d.day.weekday(): d.mean for d in found.days}
    assert by_day[5] == pytest.approx(6, abs=0.5) and by_day[6] == pytest.approx(0, abs=0.5)
    assert all(by_day[w] == pytest.approx(2, abs=0.5) for w in range(5))


FORECAST = """query($sku: String!, $days: Int!) {
  demandForecast(sku: $sku, days: $days) {
    product { sku } method reason historyFrom historyTo history { date units }
    sigmaDaily alpha days { date units standardDeviation intervals { level low high } }
  }
}"""
REORDER = """query($sku: String!, $serviceLevel: Float) {
  reorderSuggestion(sku: $sku, serviceLevel: $serviceLevel) {
    product { sku } leadTimeDays leadTimeDemand forecastMethod forecastReason serviceLevel
    z sigmaDaily safetyStock openBackorderedUnits availableUnits scheduledRestockUnits
    restocksUntil netRequirement quantity
  }
}"""


async def _days_ago(actor: Actor, quantity: int, days: int) -> None:
    when = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days)
    await _order(actor, "LAMP", quantity, when)


async def test_staff_read_both_over_graphql(gql: Run) -> None:
    # Given 3 units three days ago and 1 yesterday, 2 on hand, lead time 2 days
    await catalog.create_product(STAFF, "LAMP", "Lamp", Decimal("20.00"), on_hand=2,
                                 policy=Policy(lead_time_days=2))
    await _days_ago(ALICE, 3, 3)  # 2 from stock, 1 back-ordered
    await _days_ago(BOB, 1, 1)  # back-ordered
    today = utcnow().date()
    data = (await gql(FORECAST, STAFF, sku="LAMP", days=2))["demandForecast"]
    assert (data["product"]["sku"], data["method"], data["alpha"]) == (
        "LAMP", "MEAN_FALLBACK", None)
    assert data["historyFrom"] == (today - timedelta(days=3)).isoformat()
    assert data["historyTo"] == (today - timedelta(days=1)).isoformat()
    assert [h["units"] for h in data["history"]] == [3, 0, 1]
    assert [d["date"] for d in data["days"]] == [today.isoformat(),
                                                 (today + timedelta(days=1)).isoformat()]
    assert data["days"][0]["units"] == pytest.approx(4 / 3)
    assert [i["level"] for i in data["days"][0]["intervals"]] == [0.8, 0.95]
    # sigma: sample sd of 3 0 1 = sqrt(7/3) = 1.5275; safety 1.644854 * 1.5275 * sqrt 2
    reorder: dict[str, Any] = (await gql(REORDER, STAFF, sku="LAMP"))["reorderSuggestion"]
    assert reorder["serviceLevel"] == 0.95 and reorder["forecastMethod"] == "MEAN_FALLBACK"
    assert (reorder["leadTimeDays"], reorder["openBackorderedUnits"],
            reorder["availableUnits"], reorder["scheduledRestockUnits"]) == (2, 2, 0, 0)
    assert reorder["restocksUntil"] == (today + timedelta(days=2)).isoformat()
    safety = Z95 * math.sqrt(7 / 3) * math.sqrt(2)
    assert reorder["safetyStock"] == pytest.approx(safety, abs=1e-5)
    assert reorder["netRequirement"] == pytest.approx(8 / 3 + safety + 2, abs=1e-5)
    assert reorder["quantity"] == 9  # 2.667 + 3.553 + 2 = 8.22


@pytest.mark.parametrize(("query", "actor", "variables", "code"), [
    (FORECAST, ALICE, {"sku": "KB", "days": 7}, "FORBIDDEN"),
    (FORECAST, None, {"sku": "KB", "days": 7}, "FORBIDDEN"),
    (FORECAST, STAFF, {"sku": "NOPE", "days": 7}, "NOT_FOUND"),
    (FORECAST, STAFF, {"sku": "KB", "days": 0}, "INVALID_INPUT"),
    (FORECAST, STAFF, {"sku": "KB", "days": 366}, "INVALID_INPUT"),
    (REORDER, ALICE, {"sku": "KB"}, "FORBIDDEN"),
    (REORDER, STAFF, {"sku": "NOPE"}, "NOT_FOUND"),
    (REORDER, STAFF, {"sku": "KB", "serviceLevel": 0.5}, "INVALID_INPUT"),
    (REORDER, STAFF, {"sku": "KB", "serviceLevel": 0.999}, "INVALID_INPUT"),
])
async def test_only_staff_ask_and_bad_input_is_a_typed_error(
        gql_result: Any, query: str, actor: Actor | None, variables: dict[str, Any],
        code: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    result = await gql_result(query, actor, **variables)
    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == [code]
