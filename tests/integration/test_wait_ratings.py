"""The customers' verdict: the owner rates a shipped back order's wait once; the demand
report shows the average next to the waits."""

from __future__ import annotations

from datetime import date
from typing import Any

from api.domain.demand import Bucket
from api.services import backorders, demand
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import ADJUST_STOCK

RATE = """
mutation($id: ID!, $rating: Int!, $comment: String!) {
  rateWait(backOrderId: $id, rating: $rating, comment: $comment) {
    __typename
    ... on RateWaitPayload { waitRating { rating comment } }
    ... on Error { code message }
    ... on InvalidTransitionError { fromStatus toStatus }
    ... on InvalidInputError { field }
  }
}"""


async def _rate(gql: Run, actor: Any, id_: str, rating: int, comment: str = "") -> Any:
    return (await gql(RATE, actor, id=id_, rating=rating, comment=comment))["rateWait"]


async def test_the_owner_rates_a_shipped_wait_once(gql: Run) -> None:
    await steps.product(gql, "KB")
    alice = await steps.back_order(gql, ALICE, "KB", 1)
    bob = await steps.back_order(gql, BOB, "KB", 1)
    early = await _rate(gql, ALICE, alice["id"], 5)
    assert (early["code"], early["fromStatus"], early["toStatus"]) == (
        "INVALID_TRANSITION", "WAITING", "RATED")
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=2)
    for bo in (alice, bob):
        await backorders.ship_back_order(STAFF, int(bo["id"]))
    assert (await _rate(gql, BOB, alice["id"], 1))["code"] == "NOT_FOUND"
    assert (await _rate(gql, ALICE, alice["id"], 6))["field"] == "rating"
    rated = await _rate(gql, ALICE, alice["id"], 4, " quick enough ")
    assert rated["waitRating"] == {"rating": 4, "comment": "quick enough"}
    again = await _rate(gql, ALICE, alice["id"], 5)
    assert (again["code"], again["fromStatus"]) == ("INVALID_TRANSITION", "RATED")
    assert (await _rate(gql, BOB, bob["id"], 1))["__typename"] == "RateWaitPayload"
    query = await demand.demand_query(STAFF, date(2026, 1, 1), date(2035, 12, 31), Bucket.MONTH)
    total = await demand.total(query)
    assert (total.ratings, total.rating_mean) == (2, 2.5)
    data = await gql("""query { demandReport(from: "2026-01-01", to: "2035-12-31", bucket: MONTH,
                     skus: ["KB"]) { total { ratings averageRating } } }""", STAFF)
    assert data["demandReport"]["total"] == {"ratings": 2, "averageRating": 2.5}
