"""GraphQL object types over the store's rows.

Each field is declared once, here (see ``fields.py``): a plain attribute of the row, a
``column`` expression, a ``known`` row, or an ``executor_field``. The executor's resolvers
and the compiled plans (``plans.py``) are both made from these declarations. An object of a
row type *is* its row (``models.BackOrder``, ...): there is no copy to keep in step.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.scalars import JSON

from api.domain import validation
from api.domain.estimates import quote
from api.domain.model import Availability as AvailabilityValue
from api.domain.model import RestockStatus as RestockStatusValue
from api.domain.model import Status as StatusValue
from api.graphql.context import Info
from api.graphql.fields import column, executor_field, helper, known
from api.services.clock import utcnow
from api.services.reads import Page, encode_cursor, product_availability
from api.store import models

Availability = strawberry.enum(AvailabilityValue, description="What a storefront shows.")
BackOrderStatus = strawberry.enum(StatusValue, name="BackOrderStatus")
RestockStatus = strawberry.enum(RestockStatusValue, name="RestockStatus")

if TYPE_CHECKING:
    from api.graphql.delivery import Notification

T = TypeVar("T")


@helper
def _cursor(key: int | str) -> str:
    return encode_cursor(key)


@helper
def _availability(product: models.Product) -> AvailabilityValue:
    return product_availability(product, utcnow().date())


# Its row is the pair (amount, currency).
@strawberry.type(description="An amount of money in a currency.")
class Money:
    amount: Decimal = column("r[0]")
    currency: str = column("r[1]", description="ISO 4217 code, e.g. EUR.")


SHOP_CURRENCY = "ctx.settings.currency"


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


# Its row is the pair (key, item): the cursor is encoded only when it is asked for.
@strawberry.type
class Edge(Generic[T]):
    cursor: str = column("_cursor(r[0])")
    node: T = column("r[1]")


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    page: strawberry.Private[Page[Any]]

    @executor_field("counts with its own query", description="All items that match the "
                    "filter, on every page.")
    async def total_count(self) -> int:
        return await self.page.count()

    @classmethod
    def of(cls, page: Page[Any]) -> Connection[T]:
        keys = page.keys
        return cls(
            edges=list(zip(keys, page.items, strict=True)),  # type: ignore[arg-type]
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=encode_cursor(keys[0]) if keys else None,  # type: ignore[arg-type]
                end_cursor=encode_cursor(keys[-1]) if keys else None,  # type: ignore[arg-type]
            ),
            page=page,
        )


# The row of Stock and BackorderPolicy is the product; of Customer, the customer's id.
@strawberry.type(description="A product's stock figures.")
class Stock:
    on_hand: int
    allocated: int = strawberry.field(description="Promised to orders, not yet shipped.")
    available: int = column("r.on_hand - r.allocated", description="On hand minus allocated.")
    backordered: int = column("r.waiting",
                              description="Units of open back orders still waiting.")


@strawberry.type(description="How a product may be back-ordered.")
class BackorderPolicy:
    allow_backorders: bool
    backorder_cap: int | None = strawberry.field(
        description="At most this many back-ordered units may wait at once.")
    lead_time_days: int = strawberry.field(
        description="Used for ship dates when no scheduled restock covers an order.")
    handling_days: int
    release_date: date | None = strawberry.field(description="Pre-order until this day.")
    delay_grace_days: int
    low_stock_threshold: int


@strawberry.type
class QueueFigures:
    open_back_orders: int
    cash_collected_ahead_of_stock: Money


@strawberry.type
class Product:
    id: strawberry.ID
    sku: str
    name: str
    digital: bool
    discontinued: bool
    version: int
    price: Money = column(f"(r.price, {SHOP_CURRENCY})")
    stock: Stock = column("r")
    availability: Availability = column("_availability(r)")  # type: ignore[valid-type]
    policy: BackorderPolicy = column("r")

    @executor_field("takes an argument and loads restocks and the queue's tail",
                    description="When an order placed now for this quantity would ship in "
                    "full; null when it cannot be ordered.")
    async def estimated_ship_date(root: models.Product, info: Info,
                                  quantity: int = 1) -> date | None:
        validation.positive(quantity, "quantity")
        loaders = info.context.loaders
        restocks = await loaders.open_restocks.load(root.id)
        tail = await loaders.queue_tail_date.load(root.id)
        return quote(root.stock, root.policy, root.discontinued, quantity,
                     [x.supply for x in restocks], tail, utcnow().date())

    @executor_field("loads a list")
    async def restocks(root: models.Product, info: Info) -> list[Restock]:
        return await info.context.loaders.open_restocks.load(root.id)  # type: ignore[return-value]

    @executor_field("staff only, loads figures", description="Staff only (null for others): "
                    "the open queue and the cash taken ahead of stock.")
    async def queue_figures(root: models.Product, info: Info
                            ) -> QueueFigures | None:
        if info.context.actor is None or not info.context.actor.is_staff:
            return None
        figures = await info.context.loaders.queue_figures.load(root.id)
        return QueueFigures(
            open_back_orders=figures.open_back_orders,
            cash_collected_ahead_of_stock=(  # type: ignore[arg-type]
                figures.cash_ahead_of_stock, info.context.settings.currency),
        )


@strawberry.type
class Restock:
    id: strawberry.ID
    quantity: int
    received: int
    outstanding: int = strawberry.field(
        description="Units still expected; 0 once received or cancelled.")
    over_delivered: int = strawberry.field(
        description="Units received beyond the quantity ordered (an over-delivery is "
        "counted in like any other).")
    expected_date: date
    status: RestockStatus  # type: ignore[valid-type]
    note: str
    product: Product = known("products", "r.product_id")


@strawberry.type
class BackOrderEvent:
    kind: str
    status: BackOrderStatus  # type: ignore[valid-type]
    version: int
    at: datetime
    detail: JSON


@strawberry.type(description="Who placed an order.")
class Customer:
    id: str = column("r")


@strawberry.type(description="A customer's place in one product's queue for some units.")
class BackOrder:
    id: strawberry.ID
    status: BackOrderStatus  # type: ignore[valid-type]
    quantity: int
    allocated_quantity: int = column("r.allocated")
    remaining_quantity: int = column("r.quantity - r.allocated")
    queue_position: int | None = strawberry.field(
        description="1 for the head of the queue; null once fully allocated or closed.")
    units_ahead: int
    estimated_ship_date: date
    estimate_is_scheduled: bool = column(
        "r.estimate_scheduled",
        description="False when no scheduled restock covers it (lead-time estimate).")
    promised_date: date = strawberry.field(description="The date first promised.")
    delayed: bool
    priority: int
    placed_at: datetime
    tracking_code: str | None
    version: int = strawberry.field(description="Grows by one with every change.")
    unit_price: Money = column(f"(r.unit_price, {SHOP_CURRENCY})")
    refunded_amount: Money = column(f"(r.refunded_amount, {SHOP_CURRENCY})")
    customer: Customer = column("r.customer_id")
    product: Product = known("products", "r.product_id")
    order: Order = known("orders", "r.order_id")

    @executor_field("loads a list", description="Messages about this back order: the "
                    "delivery log.")
    async def notifications(root: models.BackOrder, info: Info
                            ) -> list[Annotated[Notification,
                                                strawberry.lazy("api.graphql.delivery")]]:
        return await info.context.loaders.notifications.load(root.id)  # type: ignore[return-value]

    @executor_field("loads a list", description="Every change, oldest first.")
    async def history(root: models.BackOrder, info: Info
                      ) -> list[BackOrderEvent]:
        return await info.context.loaders.history.load(root.id)  # type: ignore[return-value]


@strawberry.type
class OrderLine:
    id: strawberry.ID
    quantity: int
    allocated_quantity: int = column("r.allocated_now",
                                     description="Taken from stock when placed.")
    backordered_quantity: int = column("r.backordered")
    shipped_at: datetime | None = strawberry.field(
        description="When the units taken from stock shipped (back orders ship apart).")
    tracking_code: str | None
    unit_price: Money = column(f"(r.unit_price, {SHOP_CURRENCY})")
    amount_charged: Money = column(f"(r.amount_charged, {SHOP_CURRENCY})")
    product: Product = known("products", "r.product_id")


@strawberry.type
class Order:
    id: strawberry.ID
    idempotency_key: str
    placed_at: datetime
    customer: Customer = column("r.customer_id")
    amount_charged: Money = column("(r.amount_charged, r.currency)")
    amount_refunded: Money = column("(r.amount_refunded, r.currency)")

    @executor_field("loads a list")
    async def lines(root: models.Order, info: Info) -> list[OrderLine]:
        return await info.context.loaders.lines.load(root.id)  # type: ignore[return-value]

    @executor_field("loads a list")
    async def back_orders(root: models.Order, info: Info) -> list[BackOrder]:
        return await info.context.loaders.back_orders.load(root.id)  # type: ignore[return-value]


ProductConnection = Connection[Product]
BackOrderConnection = Connection[BackOrder]
OrderConnection = Connection[Order]
