"""Queries: parse arguments, call a read service, wrap rows in types."""

from __future__ import annotations

import strawberry

from api.domain import validation
from api.domain.identity import Role, require_actor, require_staff
from api.graphql.context import Info
from api.graphql.delivery import Notification, NotificationStatus
from api.graphql.demand import DemandQueries
from api.graphql.fields import executor_field
from api.graphql.loaders import prefetch_for
from api.graphql.preferences import NotificationPreferences
from api.graphql.types import (
    Availability,
    BackOrder,
    BackOrderConnection,
    BackOrderStatus,
    Connection,
    Order,
    OrderConnection,
    Product,
    ProductConnection,
    Restock,
)
from api.graphql.webhooks import WebhookQueries
from api.services import preferences, reads
from api.services.clock import utcnow

RoleEnum = strawberry.enum(Role, name="Role")
NotificationConnection = Connection[Notification]
BackOrderSort = strawberry.enum(reads.BackOrderSort, name="BackOrderSort")


def parse_id(value: strawberry.ID, field: str = "id") -> int:
    return validation.row_id(str(value), field)


@strawberry.type(description="Who the bearer token names.")
class Viewer:
    id: str
    role: RoleEnum  # type: ignore[valid-type]

    @executor_field("takes page arguments, reads a page")
    async def orders(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> OrderConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        return OrderConnection.of(await reads.list_orders(self.id, size, after))

    @executor_field("reads the preferences")
    async def notification_preferences(self, info: Info) -> NotificationPreferences:
        row = await preferences.get_preferences(info.context.actor, self.id)
        return row


@strawberry.type
class Query(WebhookQueries, DemandQueries):
    @strawberry.field(description="A product by SKU; public.")
    async def product(self, sku: str) -> Product | None:
        row = await reads.get_product(sku)
        return row

    @strawberry.field(description="Products in SKU order; public.")
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        availability: list[Availability] | None = None,  # type: ignore[valid-type]
    ) -> ProductConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        page = await reads.list_products(size, after, availability, utcnow().date())
        return ProductConnection.of(page)

    @strawberry.field(description="Your own back order, or any for staff; null if not visible.")
    async def back_order(self, info: Info, id: strawberry.ID) -> BackOrder | None:
        row = await reads.get_back_order(info.context.actor, parse_id(id))
        return row

    @strawberry.field(description="Back orders you may see: your own, or all for staff.")
    async def back_orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        sku: str | None = None,
        status: list[BackOrderStatus] | None = None,  # type: ignore[valid-type]
        customer_id: str | None = None,
        order_by: BackOrderSort = reads.BackOrderSort.PLACED,  # type: ignore[valid-type]
    ) -> BackOrderConnection:
        actor = require_actor(info.context.actor)
        size = reads.page_size(first, info.context.settings.max_page_size)
        page = await reads.list_back_orders(
            actor, size, after, sku=sku, statuses=status, customer_id=customer_id,
            sort=order_by, with_orders=True, light=True,
        )
        await prefetch_for(info.context.loaders, page.items, page.orders)
        return BackOrderConnection.of(page)

    @strawberry.field(description="Your own order, or any for staff; null if not visible.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        row = await reads.get_order(info.context.actor, parse_id(id))
        return row

    @strawberry.field(description="The signed-in customer or staff member; null when anonymous.")
    def viewer(self, info: Info) -> Viewer | None:
        actor = info.context.actor
        return Viewer(id=actor.subject, role=actor.role) if actor else None

    @strawberry.field(description="Staff: the delivery log, newest first (e.g. status FAILED).")
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: list[NotificationStatus] | None = None,  # type: ignore[valid-type]
    ) -> NotificationConnection:
        require_staff(info.context.actor)
        size = reads.page_size(first, info.context.settings.max_page_size)
        page = await reads.list_notifications(size, after, status)
        return NotificationConnection.of(page)

    @strawberry.field(description="A product's restocks, soonest first; public.")
    async def restocks(
        self, info: Info, sku: str, include_closed: bool = False
    ) -> list[Restock]:
        if include_closed:
            require_staff(info.context.actor)
        return await reads.list_restocks(sku, include_closed)
