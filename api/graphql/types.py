"""GraphQL object types over the store's rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from api.services.clock import utcnow
from api.services.reads import Page, product_availability
from api.store import models

Availability = strawberry.enum(AvailabilityValue, description="What a storefront shows.")
BackOrderStatus = strawberry.enum(StatusValue, name="BackOrderStatus")
RestockStatus = strawberry.enum(RestockStatusValue, name="RestockStatus")

if TYPE_CHECKING:
    from api.graphql.delivery import Notification

T = TypeVar("T")


@strawberry.type
class Money:
    amount: Decimal
    currency: str


def money(info: Info, amount: Decimal) -> Money:
    return Money(amount=amount, currency=info.context.settings.currency)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="All items that match the filter, on every page.")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def of(cls, page: Page[Any], convert: object) -> Connection[T]:
        edges = [
            Edge(cursor=cursor, node=convert(item))  # type: ignore[operator]
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            count=page.count,
        )


@strawberry.type
class Stock:
    on_hand: int
    allocated: int = strawberry.field(description="Promised to orders, not yet shipped.")
    available: int = strawberry.field(description="On hand minus allocated.")
    backordered: int = strawberry.field(description="Units of open back orders still waiting.")


@strawberry.type
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
    row: strawberry.Private[models.Product]
    id: strawberry.ID
    sku: str
    name: str
    digital: bool
    discontinued: bool
    version: int

    @classmethod
    def of(cls, row: models.Product) -> Product:
        return cls(row=row, id=strawberry.ID(str(row.id)), sku=row.sku, name=row.name,
                   digital=row.digital, discontinued=row.discontinued, version=row.version)

    @strawberry.field
    def price(self, info: Info) -> Money:
        return money(info, self.row.price)

    @strawberry.field
    def stock(self) -> Stock:
        r = self.row
        return Stock(on_hand=r.on_hand, allocated=r.allocated,
                     available=r.on_hand - r.allocated, backordered=r.waiting)

    @strawberry.field
    def availability(self) -> Availability:  # type: ignore[valid-type]
        return product_availability(self.row, utcnow().date())

    @strawberry.field
    def policy(self) -> BackorderPolicy:
        p = self.row.policy
        return BackorderPolicy(
            allow_backorders=p.allow_backorders, backorder_cap=p.cap,
            lead_time_days=p.lead_time_days, handling_days=p.handling_days,
            release_date=p.release_date, delay_grace_days=p.delay_grace_days,
            low_stock_threshold=p.low_stock_threshold,
        )

    @strawberry.field(
        description="When an order placed now for this quantity would ship in full; null "
        "when it cannot be ordered."
    )
    async def estimated_ship_date(self, info: Info, quantity: int = 1) -> date | None:
        validation.positive(quantity, "quantity")
        r = self.row
        loaders = info.context.loaders
        restocks = await loaders.open_restocks.load(r.id)
        tail = await loaders.queue_tail_date.load(r.id)
        return quote(r.stock, r.policy, r.discontinued, quantity,
                     [x.supply for x in restocks], tail, utcnow().date())

    @strawberry.field
    async def restocks(self, info: Info) -> list[Restock]:
        return [Restock.of(r) for r in await info.context.loaders.open_restocks.load(self.row.id)]

    @strawberry.field(
        description="Staff only (null for others): the open queue and the cash taken ahead "
        "of stock."
    )
    async def queue_figures(self, info: Info) -> QueueFigures | None:
        if info.context.actor is None or not info.context.actor.is_staff:
            return None
        figures = await info.context.loaders.queue_figures.load(self.row.id)
        return QueueFigures(
            open_back_orders=figures.open_back_orders,
            cash_collected_ahead_of_stock=money(info, figures.cash_ahead_of_stock),
        )


@strawberry.type
class Restock:
    row: strawberry.Private[models.Restock]
    id: strawberry.ID
    quantity: int
    received: int
    outstanding: int
    expected_date: date
    status: RestockStatus  # type: ignore[valid-type]
    note: str

    @classmethod
    def of(cls, row: models.Restock) -> Restock:
        return cls(row=row, id=strawberry.ID(str(row.id)), quantity=row.quantity,
                   received=row.received, outstanding=row.outstanding,
                   expected_date=row.expected_date, status=row.status, note=row.note)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return Product.of(await _product(info, self.row.product_id))


@strawberry.type
class BackOrderEvent:
    kind: str
    status: BackOrderStatus  # type: ignore[valid-type]
    version: int
    at: datetime
    detail: JSON


@strawberry.type
class Customer:
    id: str


@strawberry.type(description="A customer's place in one product's queue for some units.")
class BackOrder:
    row: strawberry.Private[models.BackOrder]
    id: strawberry.ID
    status: BackOrderStatus  # type: ignore[valid-type]
    quantity: int
    allocated_quantity: int
    remaining_quantity: int
    queue_position: int | None = strawberry.field(
        description="1 for the head of the queue; null once fully allocated or closed.")
    units_ahead: int
    estimated_ship_date: date
    estimate_is_scheduled: bool = strawberry.field(
        description="False when no scheduled restock covers it (lead-time estimate).")
    promised_date: date = strawberry.field(description="The date first promised.")
    delayed: bool
    priority: int
    placed_at: datetime
    tracking_code: str | None
    version: int = strawberry.field(description="Grows by one with every change.")

    @classmethod
    def of(cls, row: models.BackOrder) -> BackOrder:
        return cls(
            row=row, id=strawberry.ID(str(row.id)), status=row.status, quantity=row.quantity,
            allocated_quantity=row.allocated, remaining_quantity=row.remaining_units,
            queue_position=row.queue_position, units_ahead=row.units_ahead,
            estimated_ship_date=row.estimated_ship_date,
            estimate_is_scheduled=row.estimate_scheduled, promised_date=row.promised_date,
            delayed=row.delayed, priority=row.priority, placed_at=row.placed_at,
            tracking_code=row.tracking_code, version=row.version,
        )

    @strawberry.field
    def unit_price(self, info: Info) -> Money:
        return money(info, self.row.unit_price)

    @strawberry.field
    def refunded_amount(self, info: Info) -> Money:
        return money(info, self.row.refunded_amount)

    @strawberry.field
    def customer(self) -> Customer:
        return Customer(id=self.row.customer_id)

    @strawberry.field
    def product(self, info: Info) -> Product:
        # Synchronous when the page prefetched it (no awaitable per node), else loaded.
        known = info.context.loaders.known_products.get(self.row.product_id)
        if known is not None:
            return Product.of(known)
        return _load(Product.of, _product(info, self.row.product_id))  # type: ignore[return-value]

    @strawberry.field
    def order(self, info: Info) -> Order:
        known = info.context.loaders.known_orders.get(self.row.order_id)
        if known is not None:
            return Order.of(known)
        return _load(Order.of, _order(info, self.row.order_id))  # type: ignore[return-value]

    @strawberry.field(description="Messages about this back order: the delivery log.")
    async def notifications(self, info: Info) -> list[Annotated[
            Notification, strawberry.lazy("api.graphql.delivery")]]:
        from api.graphql.delivery import Notification as NotificationType

        rows = await info.context.loaders.notifications.load(self.row.id)
        return [NotificationType.of(r) for r in rows]

    @strawberry.field(description="Every change, oldest first.")
    async def history(self, info: Info) -> list[BackOrderEvent]:
        return [
            BackOrderEvent(kind=e.kind, status=e.status, version=e.version, at=e.at,
                           detail=e.detail)  # type: ignore[arg-type]
            for e in await info.context.loaders.history.load(self.row.id)
        ]


@strawberry.type
class OrderLine:
    row: strawberry.Private[models.OrderLine]
    id: strawberry.ID
    quantity: int
    allocated_quantity: int = strawberry.field(description="Taken from stock when placed.")
    backordered_quantity: int
    shipped_at: datetime | None = strawberry.field(
        description="When the units taken from stock shipped (back orders ship apart).")
    tracking_code: str | None

    @classmethod
    def of(cls, row: models.OrderLine) -> OrderLine:
        return cls(row=row, id=strawberry.ID(str(row.id)), quantity=row.quantity,
                   allocated_quantity=row.allocated_now, backordered_quantity=row.backordered,
                   shipped_at=row.shipped_at, tracking_code=row.tracking_code)

    @strawberry.field
    def unit_price(self, info: Info) -> Money:
        return money(info, self.row.unit_price)

    @strawberry.field
    def amount_charged(self, info: Info) -> Money:
        return money(info, self.row.amount_charged)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return Product.of(await _product(info, self.row.product_id))


@strawberry.type
class Order:
    row: strawberry.Private[models.Order]
    id: strawberry.ID
    idempotency_key: str
    placed_at: datetime

    @classmethod
    def of(cls, row: models.Order) -> Order:
        return cls(row=row, id=strawberry.ID(str(row.id)), idempotency_key=row.idempotency_key,
                   placed_at=row.placed_at)

    @strawberry.field
    def customer(self) -> Customer:
        return Customer(id=self.row.customer_id)

    @strawberry.field
    def amount_charged(self) -> Money:
        return Money(amount=self.row.amount_charged, currency=self.row.currency)

    @strawberry.field
    def amount_refunded(self) -> Money:
        return Money(amount=self.row.amount_refunded, currency=self.row.currency)

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        return [OrderLine.of(r) for r in await info.context.loaders.lines.load(self.row.id)]

    @strawberry.field
    async def back_orders(self, info: Info) -> list[BackOrder]:
        rows = await info.context.loaders.back_orders.load(self.row.id)
        return [BackOrder.of(r) for r in rows]


async def _load(convert: Any, row: Any) -> Any:
    return convert(await row)


async def _order(info: Info, order_id: int) -> models.Order:
    row = await info.context.loaders.order.load(order_id)
    assert row is not None
    return row


async def _product(info: Info, product_id: int) -> models.Product:
    row = await info.context.loaders.product.load(product_id)
    assert row is not None
    return row


ProductConnection = Connection[Product]
BackOrderConnection = Connection[BackOrder]
OrderConnection = Connection[Order]
