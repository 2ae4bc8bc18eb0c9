"""The subscription fast path answers exactly what the executor answers."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from api.graphql.context import Context
from api.graphql.schema import schema
from api.realtime.hub import Hub
from api.settings import Settings
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run

PLAIN = [
    "subscription { myBackOrders { id status version queuePosition unitsAhead "
    "estimatedShipDate estimateIsScheduled promisedDate delayed priority placedAt "
    "trackingCode quantity allocatedQuantity remainingQuantity __typename } }",
    'subscription S { productStockChanged(sku: "KB") { sku v: version availability '
    "stock { onHand allocated available backordered } name digital discontinued id } }",
    "subscription($id: ID!) { backOrderUpdated(id: $id) { id version } }",
    'subscription { backOrderQueue(sku: "KB") { id queuePosition } }',
    "subscription { myBackOrders { unitPrice { amount currency } refundedAmount { amount } "
    "customer { id } ... on BackOrder { version } } }",
    'subscription { productStockChanged(sku: "KB") { price { amount } policy { '
    "allowBackorders backorderCap leadTimeDays releaseDate } } }",
]
NOT_PLAIN = [
    "subscription { myBackOrders { id product { sku } } }",
    "subscription { myBackOrders { ...F } } fragment F on BackOrder { id }",
    "subscription { myBackOrders { id @include(if: true) } }",
    "subscription { myBackOrders { nope } }",
]


async def _first(stream: Any) -> Any:
    async for result in stream:
        await stream.aclose()
        return result
    raise AssertionError("no result")


@pytest.mark.parametrize("query", PLAIN)
async def test_the_fast_path_matches_the_executor(gql: Run, query: str) -> None:
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 2)
    await steps.back_order(gql, BOB, "KB", 1)
    assert schema._plan(query, None) is not None
    actor = STAFF if "backOrderQueue" in query else ALICE
    context = Context(actor, Settings(), hub=Hub())
    variables = {"id": bo["id"]}
    fast = await _first(await schema.stream(query, variables, context))
    slow = await _first(await strawberry.Schema.stream(schema, query, variables, context))
    assert fast.errors is None and slow.errors is None, (fast.errors, slow.errors)
    assert fast.data == slow.data


@pytest.mark.parametrize("query", NOT_PLAIN)
def test_other_selections_take_the_executor(query: str) -> None:
    assert schema._plan(query, None) is None


async def test_errors_match_too(gql: Run) -> None:
    query = "subscription($id: ID!) { backOrderUpdated(id: $id) { id } }"
    context = Context(None, Settings(), hub=Hub())
    fast = await _first(await schema.stream(query, {"id": "1"}, context))
    slow = await _first(await strawberry.Schema.stream(schema, query, {"id": "1"}, context))
    assert [e.formatted for e in fast.errors] == [e.formatted for e in slow.errors]
