"""Live updates: the current state first, then every committed change, in order.

A subscription joins the hub before it reads the database, so nothing committed in between
is missed; events it already covered (version not above the last one sent) are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import strawberry
from graphql import GraphQLError

from api.domain.errors import DomainError, Forbidden, NotFound
from api.domain.identity import require_actor, require_staff
from api.domain.model import QUEUED_STATUSES
from api.graphql.context import Info
from api.graphql.loaders import Loaders
from api.graphql.queries import parse_id
from api.graphql.types import BackOrder, Product
from api.realtime.hub import Hub, Overflow, Resync
from api.services import reads
from api.services.queue import QUEUE_ORDER
from api.store import models
from api.store.snapshots import back_order_from, product_from

OVERFLOW_CLOSE_CODE = 4429


def _hub(info: Info) -> Hub:
    hub = info.context.hub
    if hub is None:
        raise GraphQLError("subscriptions are not available on this server")
    return hub


def _error(exc: DomainError) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": exc.code})


async def _follow(
    info: Info,
    keys: list[str],
    current: Callable[[], Awaitable[list[Any]]],
    render: Callable[[dict[str, Any]], Any],
    wanted: Callable[[dict[str, Any]], bool] = lambda payload: True,
) -> AsyncGenerator[Any, None]:
    """Yield the current rows, then each newer version that arrives for ``keys``."""
    sent: dict[str, int] = {}
    with _hub(info).subscribe(keys) as subscription:
        try:
            for row in await current():
                sent[str(row.pk)] = row.version
                yield _fresh(info, row)
            while True:
                item = await subscription.get()
                if isinstance(item, Resync):
                    for row in await current():
                        if row.version > sent.get(str(row.pk), 0):
                            sent[str(row.pk)] = row.version
                            yield _fresh(info, row)
                    continue
                key = str(item.payload.get("id"))
                if item.version > sent.get(key, 0) and wanted(item.payload):
                    sent[key] = item.version
                    yield _fresh(info, render(item.payload))
        except Overflow as exc:
            websocket = info.context.websocket
            if websocket is not None:
                await websocket.close(code=OVERFLOW_CLOSE_CODE, reason=str(exc))
            raise GraphQLError(str(exc), extensions={"code": "TOO_FAR_BEHIND"}) from None


def _fresh(info: Info, row: Any) -> Any:
    """Each event renders with fresh loaders: a websocket's context lives for hours."""
    info.context.loaders = Loaders()
    return row


@strawberry.type
class Subscription:
    @strawberry.subscription(description="One back order: yours, or any for staff.")
    async def back_order_updated(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[BackOrder, None]:
        try:
            actor = require_actor(info.context.actor)
            back_order_id = parse_id(id)
            row = await reads.get_back_order(actor, back_order_id)
            if row is None:
                raise NotFound("BackOrder", str(id))
        except DomainError as exc:
            raise _error(exc) from None

        async def current() -> list[models.BackOrder]:
            found = await reads.get_back_order(actor, back_order_id)
            return [found] if found else []

        async for row in _follow(info, [f"bo:{back_order_id}"], current, back_order_from):
            yield BackOrder.of(row)

    @strawberry.subscription(description="Every back order of the signed-in customer.")
    async def my_back_orders(self, info: Info) -> AsyncGenerator[BackOrder, None]:
        try:
            actor = require_actor(info.context.actor)
        except DomainError as exc:
            raise _error(exc) from None

        async def current() -> list[models.BackOrder]:
            return await models.BackOrder.filter(customer_id=actor.subject).order_by("id")

        async for row in _follow(info, [f"customer:{actor.subject}"], current,
                                 back_order_from):
            yield BackOrder.of(row)

    @strawberry.subscription(description="Availability and stock of one product; public.")
    async def product_stock_changed(
        self, info: Info, sku: str
    ) -> AsyncGenerator[Product, None]:
        row = await reads.get_product(sku)
        if row is None:
            raise _error(NotFound("Product", sku))

        async def current() -> list[models.Product]:
            found = await reads.get_product(sku)
            return [found] if found else []

        async for product in _follow(info, [f"product:{sku}"], current, product_from):
            yield Product.of(product)

    @strawberry.subscription(
        description="Staff: a product's queue as it changes (waiting back orders first).")
    async def back_order_queue(
        self, info: Info, sku: str
    ) -> AsyncGenerator[BackOrder, None]:
        try:
            require_staff(info.context.actor)
            product = await reads.get_product(sku)
            if product is None:
                raise NotFound("Product", sku)
        except (DomainError, Forbidden) as exc:
            raise _error(exc) from None

        async def current() -> list[models.BackOrder]:
            return await models.BackOrder.filter(
                product_id=product.id, status__in=list(QUEUED_STATUSES)
            ).order_by(*QUEUE_ORDER)

        async for row in _follow(info, [f"queue:{product.id}"], current, back_order_from):
            yield BackOrder.of(row)
