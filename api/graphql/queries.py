"""Queries: parse arguments, call a read service, wrap rows in types."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.domain import validation
from api.domain.identity import require_actor, require_staff
from api.graphql.context import Info
from api.graphql.delivery import Notification
from api.graphql.demand import DemandQueries
from api.graphql.enums import BackOrderSort, NotificationStatus, Role
from api.graphql.fields import executor_field
from api.graphql.loaders import prefetch_for
from api.graphql.preferences import NotificationPreferences
from api.graphql.types import (
    After,
    Availability,
    BackOrder,
    BackOrderConnection,
    BackOrderStatus,
    Charge,
    Connection,
    First,
    Order,
    OrderConnection,
    Product,
    ProductConnection,
    Restock,
)
from api.graphql.waitlist import WaitlistQueries
from api.graphql.webhooks import WebhookQueries
from api.services import payments, preferences, reads
from api.services.clock import utcnow

NotificationConnection = Connection[Notification]


Sku = Annotated[str, strawberry.argument(description="The product's SKU.")]


def parse_id(value: strawberry.ID, field: str = "id") -> int:
    return validation.row_id(str(value), field)


@strawberry.type(description="Who the bearer token names.")
class Viewer:
    id: strawberry.ID = strawberry.field(description=(
        "The token's subject (`sub`): a customer's id (as `Customer.id`), or a staff "
        "member's."))
    role: Role = strawberry.field(description="What the token lets them do.")

    @executor_field("takes page arguments, reads a page",
                    description="Their own orders, newest first.")
    async def orders(self, info: Info, first: First = None, after: After = None
                     ) -> OrderConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        return OrderConnection.of(await reads.list_orders(self.id, size, after))

    @executor_field("reads the preferences", description=(
        "Their notification preferences (none set yet: no channels, no messages)."))
    async def notification_preferences(self, info: Info) -> NotificationPreferences:
        row = await preferences.get_preferences(info.context.actor, self.id)
        return row


@strawberry.type(description=(
    "Reads. Send a bearer token (`Authorization: Bearer ...`) to read as a customer or as "
    "staff; without one, only the public catalogue."))
class Query(WebhookQueries, DemandQueries, WaitlistQueries):
    @strawberry.field(description="A product by SKU; public; null when there is none.")
    async def product(self, sku: Sku) -> Product | None:
        row = await reads.get_product(sku)
        return row

    @strawberry.field(description="Products in SKU order; public.")
    async def products(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        availability: Annotated[list[Availability] | None, strawberry.argument(
            description="Only products showing one of these; null for every product.")] = None,
    ) -> ProductConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        page = await reads.list_products(size, after, availability, utcnow().date())
        return ProductConnection.of(page)

    @strawberry.field(description="Your own back order, or any for staff; null if not visible.")
    async def back_order(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The back order's id.")],
    ) -> BackOrder | None:
        row = await reads.get_back_order(info.context.actor, parse_id(id))
        return row

    @strawberry.field(description="Back orders you may see: your own, or all for staff.")
    async def back_orders(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        sku: Annotated[str | None, strawberry.argument(
            description="Only this product's back orders.")] = None,
        status: Annotated[list[BackOrderStatus] | None, strawberry.argument(
            description="Only back orders in one of these states; null for all.")] = None,
        customer_id: Annotated[str | None, strawberry.argument(description=(
            "Staff: only this customer's back orders (a customer sees only their own)."))
        ] = None,
        order_by: Annotated[BackOrderSort, strawberry.argument(
            description="The order of the list.")] = reads.BackOrderSort.PLACED,
    ) -> BackOrderConnection:
        actor = require_actor(info.context.actor)
        size = reads.page_size(first, info.context.settings.max_page_size)
        planned = info.context.planned_reads
        page = await reads.list_back_orders(
            actor, size, after, sku=sku, statuses=status, customer_id=customer_id,
            sort=order_by, with_orders=True, light=True,
            fields=None if planned is None else (  # (a type the plan reads nothing of: none)
                planned.get("BackOrder", frozenset()), planned.get("Order", frozenset())),
        )
        await prefetch_for(info.context.loaders, page.items, page.orders)
        return BackOrderConnection.of(page)

    @strawberry.field(description="Your own order, or any for staff; null if not visible.")
    async def order(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],
    ) -> Order | None:
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
        first: First = None,
        after: After = None,
        status: Annotated[list[NotificationStatus] | None, strawberry.argument(
            description="Only messages in one of these states; null for all.")] = None,
    ) -> NotificationConnection:
        require_staff(info.context.actor)
        size = reads.page_size(first, info.context.settings.max_page_size)
        page = await reads.list_notifications(size, after, status)
        return NotificationConnection.of(page)

    @strawberry.field(description=(
        "Staff: authorizations that need the shop, soonest to lapse first: those flagged a "
        "notice before they lapse (`BACKORDERS_AUTHORIZATION_NOTICE_HOURS`) and still "
        "holding money, and those that lapsed (state EXPIRED: the balance is charged anew "
        "when the units are set aside). `renewAuthorization` takes one off the list."))
    async def expiring_authorizations(
        self, info: Info,
        first: Annotated[int | None, strawberry.argument(description=(
            "At most this many, 1 up to the server's page limit (BACKORDERS_MAX_PAGE_SIZE); "
            "the limit when null."))] = None,
    ) -> list[Charge]:
        limit = info.context.settings.max_page_size
        if first is not None:
            limit = min(validation.positive(first, "first"), limit)
        return await payments.expiring(info.context.actor, limit)

    @strawberry.field(description="A product's restocks, soonest first; public.")
    async def restocks(
        self, info: Info, sku: Sku,
        include_closed: Annotated[bool, strawberry.argument(description=(
            "Staff only: also the received and cancelled ones."))] = False,
    ) -> list[Restock]:
        if include_closed:
            require_staff(info.context.actor)
        return await reads.list_restocks(sku, include_closed)
