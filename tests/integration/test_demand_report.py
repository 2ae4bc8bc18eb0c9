"""The demand report on a data set built through the use cases, every figure worked out by
hand below, on SQLite and PostgreSQL.

Window 2026-11-02 (Mon) .. 2026-11-15 (Sun), weekly: W1 = Nov 2-8, W2 = Nov 9-15.

    Oct 30 12:00  dave   MUG x2  -> back order B0 (outside the window)
    Nov  2 10:00  alice  KB  x5  -> 2 from stock, B1 for 3
    Nov  3 09:00  bob    KB  x2  -> B2 for 2
    Nov  3 12:00  carol  MUG x4  -> B3 for 4
    Nov  4 08:00  alice  LAMP x3 -> all from stock
    Nov  5 10:00  KB +4: B1 allocated (waited 3 d = 259200 s), B2 gets 1
    Nov  6 10:00  B1 shipped (4 d = 345600 s)
    Nov  6 12:00  MUG +4: B0 gets 2, B3 gets 2
    Nov 10 10:00  bob    MUG x1  -> B4 for 1
    Nov 11 10:00  carol  KB  x1  -> B5 for 1 (still open at the end)
    Nov 12 09:00  KB +1: B2 allocated (9 d = 777600 s)
    Nov 12 12:00  carol cancels B3: its 2 units go to B4, allocated (2 d 2 h = 180000 s)
    Nov 13 09:00  B2 shipped (10 d = 864000 s)
    Nov 16 00:00  dave   KB  x1  -> outside the window (its first instant after)
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from api.domain.demand import Bucket, percentile_cont
from api.domain.identity import Actor, Role
from api.services import backorders, catalog, demand, ordering
from api.store.models import BackOrder
from tests.integration.conftest import ALICE, STAFF, Run

BOB = Actor("bob", Role.CUSTOMER)
CAROL = Actor("carol", Role.CUSTOMER)
DAVE = Actor("dave", Role.CUSTOMER)
END = datetime(2026, 11, 20, tzinfo=UTC)


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def _order(actor: Actor, sku: str, quantity: int, when: datetime) -> int | None:
    placed = await ordering.place_order(actor, [ordering.LineRequest(sku, quantity)],
                                        f"{actor.subject}-{when.isoformat()}", "USD", now=when)
    found = await BackOrder.filter(order_id=placed.order.id).first()
    return found.id if found else None


async def given_the_month() -> dict[str, int]:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"), on_hand=2)
    await catalog.create_product(STAFF, "MUG", "Mug", Decimal("4.50"))
    await catalog.create_product(STAFF, "LAMP", "Lamp", Decimal("20.00"), on_hand=10)
    ids: dict[str, Any] = {}
    ids["b0"] = await _order(DAVE, "MUG", 2, at(30, 12, month=10))
    ids["b1"] = await _order(ALICE, "KB", 5, at(2, 10))
    ids["b2"] = await _order(BOB, "KB", 2, at(3, 9))
    ids["b3"] = await _order(CAROL, "MUG", 4, at(3, 12))
    assert await _order(ALICE, "LAMP", 3, at(4, 8)) is None
    await catalog.adjust_stock(STAFF, "KB", 4, "delivery", now=at(5, 10))
    await backorders.ship_back_order(STAFF, ids["b1"], now=at(6, 10))
    await catalog.adjust_stock(STAFF, "MUG", 4, "delivery", now=at(6, 12))
    ids["b4"] = await _order(BOB, "MUG", 1, at(10, 10))
    ids["b5"] = await _order(CAROL, "KB", 1, at(11, 10))
    await catalog.adjust_stock(STAFF, "KB", 1, "delivery", now=at(12, 9))
    await backorders.cancel_back_order(CAROL, ids["b3"], now=at(12, 12))
    await backorders.ship_back_order(STAFF, ids["b2"], now=at(13, 9))
    await _order(DAVE, "KB", 1, at(16, 0))
    return ids


def wait(count: int, mean: float | None, p50: float | None, p90: float | None
         ) -> dict[str, Any]:
    return {"count": count, "meanSeconds": mean, "p50Seconds": p50, "p90Seconds": p90}


NO_WAIT = wait(0, None, None, None)
ALLOCATED_KB = [259200, 777600]
SHIPPED_KB = [345600, 864000]


def figures(ordered: int, backordered: int, filled: int, back_orders: int, cancelled: int,
            open_: int, open_units: int, cash: str, to_allocated: dict[str, Any],
            to_shipped: dict[str, Any]) -> dict[str, Any]:
    return {
        "unitsOrdered": ordered, "unitsBackordered": backordered,
        "backorderRate": backordered / ordered if ordered else None,
        "fillRate": filled / ordered if ordered else None,
        "backOrders": back_orders, "cancelledBackOrders": cancelled,
        "cancellationRate": cancelled / back_orders if back_orders else None,
        "openBackOrders": open_, "openBackorderedUnits": open_units,
        "cashCollectedAheadOfStock": {"amount": cash, "currencyCode": "USD"},
        "waitToAllocated": to_allocated, "waitToShipped": to_shipped,
    }


SHIPPED_ALL = wait(2, 604800.0, 604800.0, percentile_cont(SHIPPED_KB, 0.9))
TOTAL = figures(16, 11, 5, 5, 1, 1, 1, "10.00",
                wait(3, 405600.0, 259200.0, percentile_cont([180000, *ALLOCATED_KB], 0.9)),
                SHIPPED_ALL)
WEEK_1 = figures(14, 9, 5, 3, 1, 0, 0, "0.00",
                 wait(2, 518400.0, 518400.0, percentile_cont(ALLOCATED_KB, 0.9)), SHIPPED_ALL)
WEEK_2 = figures(2, 2, 0, 2, 0, 1, 1, "10.00", wait(1, 180000.0, 180000.0, 180000.0), NO_WAIT)
KB = figures(8, 6, 2, 3, 0, 1, 1, "10.00",
             wait(2, 518400.0, 518400.0, percentile_cont(ALLOCATED_KB, 0.9)), SHIPPED_ALL)
KB_WEEK_1 = figures(7, 5, 2, 2, 0, 0, 0, "0.00", KB["waitToAllocated"], SHIPPED_ALL)
KB_WEEK_2 = figures(1, 1, 0, 1, 0, 1, 1, "10.00", NO_WAIT, NO_WAIT)
LAMP = figures(3, 0, 3, 0, 0, 0, 0, "0.00", NO_WAIT, NO_WAIT)
MUG = figures(5, 5, 0, 2, 1, 0, 0, "0.00", wait(1, 180000.0, 180000.0, 180000.0), NO_WAIT)

FIGURES = """
  unitsOrdered unitsBackordered backorderRate fillRate backOrders cancelledBackOrders
  cancellationRate openBackOrders openBackorderedUnits oldestOpenAgeSeconds
  cashCollectedAheadOfStock { amount currencyCode }
  waitToAllocated { count meanSeconds p50Seconds p90Seconds }
  waitToShipped { count meanSeconds p50Seconds p90Seconds }
"""

REPORT = """
query($from: Date!, $to: Date!, $bucket: DemandBucket!, $skus: [String!],
      $after: String) {
  demandReport(from: $from, to: $to, bucket: $bucket, skus: $skus) {
    from to bucket measuredAt
    total { FIGURES }
    periods { start end figures { FIGURES } }
    products(first: 2, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { rank product { sku } figures { FIGURES }
                     periods { start end figures { FIGURES } } } }
    }
  }
}""".replace("FIGURES", FIGURES)

WINDOW = {"from": "2026-11-02", "to": "2026-11-15", "bucket": "WEEK"}


def _without_age(found: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in found.items() if k != "oldestOpenAgeSeconds"}


async def test_every_figure_of_the_report_is_the_hand_computed_one(gql: Run) -> None:
    await given_the_month()
    data = (await gql(REPORT, STAFF, **WINDOW))["demandReport"]
    assert (data["from"], data["to"], data["bucket"]) == ("2026-11-02", "2026-11-15", "WEEK")
    assert _without_age(data["total"]) == TOTAL
    assert [(p["start"], p["end"], _without_age(p["figures"])) for p in data["periods"]] == [
        ("2026-11-02", "2026-11-08", WEEK_1), ("2026-11-09", "2026-11-15", WEEK_2)]
    products = data["products"]
    assert products["totalCount"] == 3 and products["pageInfo"]["hasNextPage"]
    nodes = [e["node"] for e in products["edges"]]
    assert [(n["rank"], n["product"]["sku"]) for n in nodes] == [(1, "KB"), (2, "LAMP")]
    assert [_without_age(n["figures"]) for n in nodes] == [KB, LAMP]
    assert [_without_age(p["figures"]) for p in nodes[0]["periods"]] == [KB_WEEK_1, KB_WEEK_2]
    after = products["pageInfo"]["endCursor"]
    rest = (await gql(REPORT, STAFF, **WINDOW, after=after))["demandReport"]
    [last] = [e["node"] for e in rest["products"]["edges"]]
    assert (last["rank"], last["product"]["sku"], _without_age(last["figures"])) == (
        3, "MUG", MUG)
    assert not rest["products"]["pageInfo"]["hasNextPage"]


async def test_one_product_and_the_age_of_its_oldest_open_back_order(db: str) -> None:
    await given_the_month()
    query = await demand.demand_query(STAFF, date(2026, 11, 2), date(2026, 11, 15),
                                      Bucket.MONTH, ["KB"], now=END)
    total = await demand.total(query)
    assert (total.units_ordered, total.open_units, total.cash_cents) == (8, 1, 1000)
    assert demand.oldest_age(query, total) == 8 * 86400 + 14 * 3600  # since Nov 11 10:00
    [(period, november)] = await demand.periods(query)
    assert (period.start, period.first, period.last) == (
        date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 15))
    assert dataclasses.replace(november, bucket=None) == total


async def test_a_day_bucket_counts_each_day_apart(gql: Run) -> None:
    await given_the_month()
    data = await gql(REPORT, STAFF, **{**WINDOW, "bucket": "DAY"}, skus=["MUG"])
    days = {p["start"]: p["figures"]["unitsOrdered"] for p in data["demandReport"]["periods"]}
    assert len(days) == 14
    assert {d: n for d, n in days.items() if n} == {"2026-11-03": 4, "2026-11-10": 1}


async def test_percentiles_are_percentile_cont_on_both_databases(db: str) -> None:
    await given_the_month()
    query = await demand.demand_query(STAFF, date(2026, 11, 2), date(2026, 11, 15),
                                      Bucket.WEEK, now=END)
    total = await demand.total(query)
    waits = [180000, *ALLOCATED_KB]
    assert total.waits["to_allocated"] == (3, sum(waits) / 3, percentile_cont(waits, 0.5),
                                           percentile_cont(waits, 0.9))
    assert total.waits["to_allocated"][3] == pytest.approx(673920)


@pytest.mark.parametrize(("actor", "variables", "code"), [
    (ALICE, WINDOW, "FORBIDDEN"),
    (None, WINDOW, "FORBIDDEN"),
    (STAFF, {**WINDOW, "skus": ["NOPE"]}, "NOT_FOUND"),
    (STAFF, {**WINDOW, "to": "2026-11-01"}, "INVALID_INPUT"),
])
async def test_only_staff_ask_and_bad_input_is_a_typed_error(
        gql_result: Any, actor: Actor | None, variables: dict[str, Any], code: str) -> None:
    result = await gql_result(REPORT, actor, **variables)
    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == [code]


async def test_an_export_reads_products_in_batches_with_the_report_figures(db: str) -> None:
    await given_the_month()
    query = await demand.demand_query(STAFF, date(2026, 11, 2), date(2026, 11, 15),
                                      Bucket.WEEK, now=END)
    batches = [batch async for batch in demand.export_rows(query, batch=2)]
    assert [[(sku, row.bucket) for sku, row in b] for b in batches] == [
        [("KB", date(2026, 11, 2)), ("KB", date(2026, 11, 9)), ("LAMP", date(2026, 11, 2))],
        [("MUG", date(2026, 11, 2)), ("MUG", date(2026, 11, 9))]]
    kb = await demand.product_periods(query, [batches[0][0][1].product_id or 0])
    assert [f for _, f in next(iter(kb.values()))] == [row for _, row in batches[0][:2]]
