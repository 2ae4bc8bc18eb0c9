"""Given-steps shared by the integration tests."""

from __future__ import annotations

import itertools
from typing import Any

from api.domain.identity import Actor
from tests.integration.conftest import STAFF, Run
from tests.integration.operations import CREATE_PRODUCT, PLACE_ORDER, SCHEDULE_RESTOCK

_keys = itertools.count()  # a fresh idempotency key per order (id(object()) repeats)


async def product(gql: Run, sku: str, on_hand: int = 0, price: str = "10.00",
                  **policy: Any) -> dict[str, Any]:
    data = await gql(CREATE_PRODUCT, STAFF, input={
        "sku": sku, "name": sku.title(), "price": price, "onHand": on_hand, "policy": policy,
    })
    assert data["createProduct"]["__typename"] == "ProductPayload", data
    return data["createProduct"]["product"]


async def order(gql: Run, actor: Actor, sku: str, quantity: int,
                key: str | None = None) -> dict[str, Any]:
    data = await gql(PLACE_ORDER, actor, input={
        "lines": [{"sku": sku, "quantity": quantity}],
        "idempotencyKey": key or f"{actor.subject}-{sku}-{quantity}-{next(_keys)}",
    })
    result: dict[str, Any] = data["placeOrder"]
    return result


async def back_order(gql: Run, actor: Actor, sku: str, quantity: int) -> dict[str, Any]:
    placed = await order(gql, actor, sku, quantity)
    assert placed["__typename"] == "PlaceOrderPayload", placed
    bo: dict[str, Any] = placed["order"]["backOrders"][0]
    return bo


async def restock(gql: Run, sku: str, quantity: int, expected: str) -> str:
    data = await gql(SCHEDULE_RESTOCK, STAFF, input={
        "sku": sku, "quantity": quantity, "expectedDate": expected,
    })
    assert data["scheduleRestock"]["__typename"] == "RestockPayload", data
    restock_id: str = data["scheduleRestock"]["restock"]["id"]
    return restock_id
