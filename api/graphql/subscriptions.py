"""Live updates: the current state first, then every committed change, in order.

A subscription joins the hub before it reads the database, so nothing committed in between
is missed; events it already covered (version not above the last one sent) are skipped.
Each event is a row (or a row made from an event's snapshot); the executor completes the
subscriber's selection on it like any query's, by plan where the selection is plain.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from api.domain import validation
from api.domain.errors import DomainError, InvalidInput, NotFound
from api.domain.identity import require_actor, require_staff
from api.domain.model import QUEUED_STATUSES
from api.graphql.context import Context, Info
from api.graphql.loaders import LazyLoaders
from api.graphql.types import BackOrder, Product
from api.realtime.hub import Hub, Overflow, Resync
from api.services import reads
from api.services.queue import QUEUE_ORDER
from api.store import models
from api.store.snapshots import back_order_from, product_from

OVERFLOW_CLOSE_CODE = 4429


def _hub(context: Context) -> Hub:
    if context.hub is None:
        raise GraphQLError("subscriptions are not available on this server")
    return context.hub


def _error(exc: DomainError) -> GraphQLError:
    extensions = {"code": exc.code}
    if isinstance(exc, InvalidInput):
        extensions["field"] = exc.field
    return GraphQLError(exc.message, extensions=extensions)


async def _follow(
    context: Context,
    keys: list[str],
    current: Callable[[], Awaitable[list[Any]]],
    render: Callable[[dict[str, Any]], Any],
    replay: Callable[[], Awaitable[list[Any]]] | None = None,
    already: dict[str, int] | None = None,
) -> AsyncIterator[Any]:
    """Yield the versions to replay, the current rows, then each newer version that arrives
    for ``keys``; never one version twice, never an older one after a newer, nothing the
    client says it ``already`` has."""
    sent: dict[str, int] = dict(already or {})
    with _hub(context).subscribe(keys) as subscription:
        try:
            for row in (await replay()) if replay else []:
                if row.version > sent.get(str(row.pk), 0):
                    sent[str(row.pk)] = row.version
                    yield row
            for row in await current():
                if row.version <= sent.get(str(row.pk), 0):
                    continue
                sent[str(row.pk)] = row.version
                yield row
            while True:
                item = await subscription.get()
                if isinstance(item, Resync):
                    for row in await current():
                        if row.version > sent.get(str(row.pk), 0):
                            sent[str(row.pk)] = row.version
                            yield row
                    continue
                key = str(item.payload.get("id"))
                if item.version > sent.get(key, 0):
                    sent[key] = item.version
                    yield item.rendered(render)
        except Overflow as exc:
            if context.websocket is not None:
                await context.websocket.close(code=OVERFLOW_CLOSE_CODE, reason=str(exc))
            raise GraphQLError(str(exc), extensions={"code": "TOO_FAR_BEHIND"}) from None


async def back_order_rows(context: Context, id: str, since_version: int | None = None
                          ) -> AsyncIterator[models.BackOrder]:
    try:
        actor = require_actor(context.actor)
        back_order_id = validation.row_id(id)
        if await reads.get_back_order(actor, back_order_id) is None:
            raise NotFound("BackOrder", id)
    except DomainError as exc:
        raise _error(exc) from None

    async def current() -> list[models.BackOrder]:
        found = await reads.get_back_order(actor, back_order_id)
        return [found] if found else []

    async def replay() -> list[models.BackOrder]:
        """Every version after ``since_version`` that the event log still holds."""
        events = await models.OutboxEvent.filter(
            topic="back_order", key=str(back_order_id)).order_by("id")
        return [back_order_from(e.payload) for e in events
                if int(e.payload.get("version", 0)) > (since_version or 0)]

    resume = since_version is not None
    async for row in _follow(context, [f"bo:{back_order_id}"], current, back_order_from,
                             replay if resume else None,
                             {str(back_order_id): since_version or 0} if resume else None):
        yield row


async def customer_rows(context: Context) -> AsyncIterator[models.BackOrder]:
    try:
        actor = require_actor(context.actor)
    except DomainError as exc:
        raise _error(exc) from None

    async def current() -> list[models.BackOrder]:
        return await models.BackOrder.filter(customer_id=actor.subject).order_by("id")

    async for row in _follow(context, [f"customer:{actor.subject}"], current, back_order_from):
        yield row


async def product_rows(context: Context, sku: str) -> AsyncIterator[models.Product]:
    try:
        if await reads.get_product(sku) is None:
            raise NotFound("Product", sku)
    except DomainError as exc:
        raise _error(exc) from None

    async def current() -> list[models.Product]:
        found = await reads.get_product(sku)
        return [found] if found else []

    async for row in _follow(context, [f"product:{sku}"], current, product_from):
        yield row


async def queue_rows(context: Context, sku: str) -> AsyncIterator[models.BackOrder]:
    try:
        require_staff(context.actor)
        product = await reads.get_product(sku)
        if product is None:
            raise NotFound("Product", sku)
    except DomainError as exc:
        raise _error(exc) from None

    async def current() -> list[models.BackOrder]:
        return await models.BackOrder.filter(
            product_id=product.id, status__in=list(QUEUED_STATUSES)
        ).order_by(*QUEUE_ORDER)

    async for row in _follow(context, [f"queue:{product.id}"], current, back_order_from):
        yield row


def _fresh(info: Info) -> None:
    """Each event renders with fresh loaders: a websocket's context lives for hours."""
    info.context.loaders = LazyLoaders()


Sku = Annotated[str, strawberry.argument(description="The product's SKU.")]


@strawberry.type(description=(
    "Live updates over a websocket: first the current state, then every committed change, "
    "in order (a `version` never goes back)."))
class Subscription:
    @strawberry.subscription(description="One back order: yours, or any for staff.")
    async def back_order_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The back order's id.")],
        since_version: Annotated[int | None, strawberry.argument(
            description="Resume: first every version after this one (kept for a day), "
            "then live.")] = None,
    ) -> AsyncGenerator[BackOrder, None]:
        async for row in back_order_rows(info.context, str(id), since_version):
            _fresh(info)
            yield row

    @strawberry.subscription(description="Every back order of the signed-in customer.")
    async def my_back_orders(self, info: Info) -> AsyncGenerator[BackOrder, None]:
        async for row in customer_rows(info.context):
            _fresh(info)
            yield row

    @strawberry.subscription(description="Availability and stock of one product; public.")
    async def product_stock_changed(
        self, info: Info, sku: Sku
    ) -> AsyncGenerator[Product, None]:
        async for row in product_rows(info.context, sku):
            _fresh(info)
            yield row

    @strawberry.subscription(
        description="Staff: a product's queue as it changes (waiting back orders first).")
    async def back_order_queue(
        self, info: Info, sku: Sku
    ) -> AsyncGenerator[BackOrder, None]:
        async for row in queue_rows(info.context, sku):
            _fresh(info)
            yield row

