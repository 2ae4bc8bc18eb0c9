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
from api.domain.promises import delay_offer_open
from api.graphql.context import Info
from api.graphql.enums import (
    Availability,
    BackOrderStatus,
    ChargeKind,
    ChargeReason,
    ChargeState,
    CurrencyCode,
    PaymentMode,
    RestockStatus,
    ShippingPreference,
)
from api.graphql.fields import column, executor_field, helper, known
from api.services.clock import utcnow
from api.services.promises import product_compensation
from api.services.reads import Page, encode_cursor, product_availability
from api.store import models

__all__ = ["Availability", "BackOrderStatus", "RestockStatus"]

if TYPE_CHECKING:
    from api.graphql.delivery import Notification

T = TypeVar("T")

helper(delay_offer_open)
helper(product_compensation)


@helper
def _cursor(key: int | str) -> str:
    return encode_cursor(key)


@helper
def _availability(product: models.Product) -> AvailabilityValue:
    return product_availability(product, utcnow().date())


# Its row is the pair (amount, currency code).
@strawberry.type(description="An amount of money in a currency.")
class Money:
    amount: Decimal = column("r[0]", description=(
        "The amount in the currency's main unit (euros, not cents) as a decimal string, "
        "e.g. `\"62.50\"`: exact, never a float; at most two decimal places."))
    currency_code: CurrencyCode = column(
        "r[1]", description="The currency, as its ISO 4217 code.")


SHOP_CURRENCY = "ctx.settings.currency"


@strawberry.type(description="Where a page stands in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when items follow this page: ask again with `after: endCursor`.")
    has_previous_page: bool = strawberry.field(
        description="True when this page was asked for `after` a cursor.")
    start_cursor: str | None = strawberry.field(
        description="The first item's cursor; null on an empty page.")
    end_cursor: str | None = strawberry.field(description=(
        "The last item's cursor, to pass as `after` for the next page; null on an empty "
        "page."))


# Its row is the pair (key, item): the cursor is encoded only when it is asked for.
@strawberry.type(description="One item of a page, with its place in the list.")
class Edge(Generic[T]):
    cursor: str = column("_cursor(r[0])", description=(
        "An opaque string that marks this item's place: pass it as `after` to read the "
        "items that follow."))
    node: T = column("r[1]", description="The item.")


@strawberry.type(description=(
    "A page of a list (a cursor connection): ask for `first` items `after` a cursor."))
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items, in list order.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow.")
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
@strawberry.type(description="A product's stock figures, in units.")
class Stock:
    on_hand: int = strawberry.field(
        description="Units in the warehouse, allocated or not (shipped units leave it).")
    allocated: int = strawberry.field(description="Promised to orders, not yet shipped.")
    held: int = strawberry.field(description=(
        "Held for waitlisters who may claim them (`claimHold`) until their holds expire; "
        "nobody else can take them meanwhile."))
    available: int = column("r.on_hand - r.allocated - r.held", description=(
        "On hand minus allocated and held: free to sell (it may be taken by waiting back "
        "orders first)."))
    backordered: int = column("r.waiting",
                              description="Units of open back orders still waiting.")


@strawberry.type(description="How a product may be back-ordered.")
class BackorderPolicy:
    allow_backorders: bool = strawberry.field(
        description="False: only free units can be ordered; nothing is back-ordered.")
    backorder_cap: int | None = strawberry.field(description=(
        "At most this many back-ordered units may wait at once; null for no cap."))
    lead_time_days: int = strawberry.field(description=(
        "Days: used for ship dates when no scheduled restock covers an order."))
    handling_days: int = strawberry.field(
        description="Days from allocation (or from an order in stock) to shipping.")
    release_date: date | None = strawberry.field(description=(
        "Pre-order until this day (ISO 8601 date); null when the product is released."))
    delay_grace_days: int = strawberry.field(description=(
        "Days an estimate may slip past the promised date before a back order counts as "
        "`delayed`."))
    low_stock_threshold: int = strawberry.field(description=(
        "At or below this many free units, availability is LOW_STOCK."))
    customer_limit: int | None = strawberry.field(description=(
        "At most this many units one customer may have on back order or pre-order at once "
        "(units bought from free stock do not count); null for no limit."))
    pre_order_cap: int | None = strawberry.field(description=(
        "While a pre-order: at most this many units on pre-order at once, whatever is on "
        "hand; null: the units on hand plus the back-order cap."))
    early_bird_size: int | None = strawberry.field(description=(
        "The first this many pre-orders are early birds; null for none."))
    early_bird_bonus: str = strawberry.field(description=(
        "What an early bird gets, in the shop's words; empty when not said."))
    payment_mode: PaymentMode = strawberry.field(description=(
        "When back-ordered and pre-ordered units are paid for (units in stock: in full at "
        "order)."))
    deposit_amount: Money | None = column(
        f"(r.deposit_amount, {SHOP_CURRENCY}) if r.deposit_amount is not None else None",
        description=("A DEPOSIT's fixed amount per back order (never more than it costs); "
                     "null for a percent or another mode."))
    deposit_percent: Decimal | None = strawberry.field(description=(
        "A DEPOSIT's percent of what the back order costs (rounded to the cent, at least a "
        "cent); null for an amount or another mode."))
    compensation: CompensationPolicy | None = column(
        "product_compensation(r)", description=(
            "The product's own compensation for late back orders; null when it has none "
            "(then the shop's applies, if the shop set one)."))


@strawberry.type(description=(
    "Compensation for late back orders: an open back order more than `afterDays` past its "
    "promised date is credited once, with `amount` or `percent` of what it cost."))
class CompensationPolicy:
    after_days: int = strawberry.field(
        description="Days past the promised date before the credit is due.")
    amount: Money | None = column(
        f"(r.amount, {SHOP_CURRENCY}) if r.amount is not None else None",
        description="A fixed credit (never more than the back order cost); null for a percent.")
    percent: Decimal | None = strawberry.field(description=(
        "A percent of what the back order cost (rounded to the cent); null for an amount."))


@strawberry.type(description="Staff only: a product's open queue in figures.")
class QueueFigures:
    open_back_orders: int = strawberry.field(
        description="Back orders not shipped or cancelled yet.")
    cash_collected_ahead_of_stock: Money = strawberry.field(description=(
        "What customers paid for units they wait for (not set aside yet): charged at order, "
        "or a deposit; what an authorization only holds does not count."))


@strawberry.type(description="Something the shop sells; public.")
class Product:
    id: strawberry.ID = strawberry.field(description="The product's id.")
    sku: str = strawberry.field(description="The stock-keeping unit: the product's own key.")
    name: str = strawberry.field(description="The name shown to customers.")
    digital: bool = strawberry.field(description="True for a product that is not shipped.")
    discontinued: bool = strawberry.field(
        description="True when it can no longer be ordered; open back orders stay.")
    version: int = strawberry.field(description=(
        "Grows by one with every change of its stock, queue or policy (the `version` of "
        "live events)."))
    price: Money = column(f"(r.price, {SHOP_CURRENCY})",
                          description="The unit price now, in the shop's currency.")
    stock: Stock = column("r", description="Its stock figures.")
    availability: Availability = column(
        "_availability(r)", description="What a storefront shows for it today.")
    policy: BackorderPolicy = column("r", description="How it may be back-ordered.")
    released_at: datetime | None = strawberry.field(description=(
        "When its pre-order ended (ISO 8601, UTC): by itself on its `releaseDate`, or "
        "earlier by `releaseProduct`; null while a pre-order and for a product with no "
        "release date (a new, later `releaseDate` makes it a pre-order again: null)."))

    @executor_field("takes an argument and loads restocks and the queue's tail",
                    description="When an order placed now for this quantity would ship in "
                    "full (ISO 8601 date); null when it cannot be ordered.")
    async def estimated_ship_date(
        root: models.Product, info: Info,
        quantity: Annotated[int, strawberry.argument(
            description="Units to order; at least 1.")] = 1,
    ) -> date | None:
        validation.positive(quantity, "quantity")
        loaders = info.context.loaders
        restocks = await loaders.open_restocks.load(root.id)
        tail = await loaders.queue_tail_date.load(root.id)
        return quote(root.stock, root.policy, root.discontinued, quantity,
                     [x.supply for x in restocks], tail, utcnow().date())

    @executor_field("loads a list", description="Its open restocks, soonest first.")
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


@strawberry.type(description="A delivery the shop expects from its supplier; public.")
class Restock:
    id: strawberry.ID = strawberry.field(description="The restock's id.")
    quantity: int = strawberry.field(description="Units ordered from the supplier.")
    received: int = strawberry.field(description="Units counted in so far.")
    outstanding: int = strawberry.field(
        description="Units still expected; 0 once received or cancelled.")
    over_delivered: int = strawberry.field(
        description="Units received beyond the quantity ordered (an over-delivery is "
        "counted in like any other).")
    expected_date: date = strawberry.field(
        description="When it is expected (ISO 8601 date); ship dates are worked out from it.")
    status: RestockStatus = strawberry.field(
        description="Where it stands.")
    note: str = strawberry.field(description="Staff's note; empty when none.")
    product: Product = known("products", "r.product_id",
                             description="The product it brings.")


@strawberry.type(description="One line of a back order's history.")
class BackOrderEvent:
    kind: str = strawberry.field(description=(
        "What happened: PLACED, PARTIALLY_ALLOCATED, ALLOCATED, QUEUE_MOVED, DATE_CHANGED, "
        "ESTIMATE_BASIS_CHANGED, DELAYED, BACK_ON_TIME, PRIORITY_CHANGED (staff moved it: "
        "`previous_priority`, `priority`, `reason`, `by`), PARTIALLY_SHIPPED (`units`, "
        "`shipped` so far, `tracking_code`), SHIPPED, CANCELLED, REFUNDED, RELEASED (its "
        "product was released: `release_date`, `allocated`), RELEASE_DATE_MOVED "
        "(`previous_release_date`, `release_date`) or EARLY_BIRD (`bonus`)."))
    status: BackOrderStatus = strawberry.field(
        description="The back order's status after it.")
    version: int = strawberry.field(description="The back order's version after it.")
    at: datetime = strawberry.field(description="When (ISO 8601, UTC).")
    detail: JSON = strawberry.field(description=(
        "The figures of the change, by kind (e.g. `units` and `allocated` for ALLOCATED, "
        "`previous` and `estimated_ship_date` for DATE_CHANGED); an object."))


@strawberry.type(description="Who placed an order.")
class Customer:
    id: strawberry.ID = column("r", description=(
        "The customer's id: the subject (`sub`) of their bearer token."))


@strawberry.type(description=(
    "A customer's place in one product's queue for some units; seen by its customer and "
    "by staff."))
class BackOrder:
    id: strawberry.ID = strawberry.field(description="The back order's id.")
    status: BackOrderStatus = strawberry.field(
        description="Where it stands.")
    quantity: int = strawberry.field(description="Units back-ordered.")
    allocated_quantity: int = column("r.allocated",
                                     description="Units set aside for it so far.")
    remaining_quantity: int = column("r.quantity - r.allocated",
                                     description="Units it still waits for.")
    queue_position: int | None = strawberry.field(
        description="1 for the head of the queue; null once fully allocated or closed.")
    units_ahead: int = strawberry.field(
        description="Units that back orders ahead of it in the queue still wait for.")
    estimated_ship_date: date = strawberry.field(
        description="When it should ship in full (ISO 8601 date), as estimated now.")
    estimate_is_scheduled: bool = column(
        "r.estimate_scheduled",
        description="False when no scheduled restock covers it (lead-time estimate).")
    promised_date: date = strawberry.field(
        description="The ship date first promised, when it was placed (ISO 8601 date).")
    delayed: bool = strawberry.field(description=(
        "True while the estimate is later than the promised date plus the product's "
        "`delayGraceDays`: the customer may cancel with a full refund."))
    priority: int = strawberry.field(
        description="Higher goes first in the queue (set by staff); 0 by default.")
    placed_at: datetime = strawberry.field(description="When it was placed (ISO 8601, UTC).")
    tracking_code: str | None = strawberry.field(
        description=("The carrier's tracking code of its last parcel; null before it "
                     "ships, or when none (every parcel: `shipments`)."))
    shipped_quantity: int = column("r.shipped", description=(
        "Units shipped so far: all of them once SHIPPED; part of them when staff shipped "
        "what was set aside before the rest came (`shipAllocatedUnits`)."))
    version: int = strawberry.field(description="Grows by one with every change.")
    pre_order: bool = strawberry.field(description=(
        "True when it was placed before its product's release: it waits for the release "
        "(the units on hand go to the pre-orders in queue order then) and its customer is "
        "told of the release and of a moved release date."))
    early_bird: bool = strawberry.field(description=(
        "True for one of the product's first `earlyBirdSize` pre-orders (see the product's "
        "`earlyBirdBonus`); a cancelled early bird's mark goes to the next pre-order placed "
        "without one."))
    unit_price: Money = column(f"(r.unit_price, {SHOP_CURRENCY})",
                               description="The price of one unit when it was ordered.")
    refunded_amount: Money = column(f"(r.refunded_amount, {SHOP_CURRENCY})", description=(
        "What was refunded (zero unless cancelled; a cancelled one is refunded what it paid "
        "for every unit that had not shipped)."))
    paid_amount: Money = column(f"(r.paid_amount, {SHOP_CURRENCY})", description=(
        "What was taken for it so far (at order, and as its units were set aside; see the "
        "product's `paymentMode`); refunds are `refundedAmount`. Once every unit is set "
        "aside it has paid its whole price."))
    authorized_amount: Money = column(f"(r.authorized_amount, {SHOP_CURRENCY})", description=(
        "What an open authorization holds for it, to be captured as its units are set "
        "aside (products paid ON_RELEASE); zero when none."))
    cancel_by: date | None = strawberry.field(description=(
        "The customer's limit (ISO 8601 date, UTC): not shipped by the end of this day, it "
        "cancels itself with a full refund and the customer is told. Null when none; set "
        "with `setBackOrderCancelBy`."))
    delay_offer_open: bool = column(
        "delay_offer_open(r.delayed, r.delay_offered_at, r.delay_accepted_at)",
        description=(
            "True while the customer has been offered, for a delay past the grace, to keep "
            "waiting or cancel and has not answered (`acceptDelay` keeps it, "
            "`cancelBackOrder` cancels). An unanswered offer keeps the back order."))
    delay_accepted_at: datetime | None = strawberry.field(description=(
        "When the customer last chose to keep waiting after a delay (ISO 8601, UTC); null "
        "if never."))
    compensated_amount: Money = column(
        f"(r.compensated_amount, {SHOP_CURRENCY})",
        description=("The credit given for being late (the product's or the shop's "
                     "compensation policy; at most once); zero when none."))
    compensated_at: datetime | None = strawberry.field(description=(
        "When the credit for being late was given (ISO 8601, UTC); null if not (yet)."))
    customer: Customer = column("r.customer_id", description="Who it is for.")
    product: Product = known("products", "r.product_id",
                             description="The product it waits for.")
    order: Order = known("orders", "r.order_id", description="The order it came from.")

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

    @executor_field("loads a list", description="Its parcels, oldest first.")
    async def shipments(root: models.BackOrder, info: Info) -> list[Shipment]:
        return await info.context.loaders.shipments.load(root.id)  # type: ignore[return-value]


@strawberry.type(description="One parcel of a back order.")
class Shipment:
    units: int = strawberry.field(description="Units in it.")
    tracking_code: str | None = strawberry.field(
        description="The carrier's tracking code; null when none.")
    shipped_at: datetime = strawberry.field(description="When it shipped (ISO 8601, UTC).")


@strawberry.type(description="One product of an order; seen by its customer and by staff.")
class OrderLine:
    id: strawberry.ID = strawberry.field(description="The line's id.")
    quantity: int = strawberry.field(description="Units ordered.")
    allocated_quantity: int = column("r.allocated_now",
                                     description="Units taken from stock when placed.")
    backordered_quantity: int = column(
        "r.backordered", description="Units back-ordered (see the order's `backOrders`).")
    shipped_at: datetime | None = strawberry.field(description=(
        "When the units taken from stock shipped (ISO 8601, UTC; back orders ship apart); "
        "null until then."))
    tracking_code: str | None = strawberry.field(description=(
        "The carrier's tracking code of the units taken from stock; null until shipped, "
        "or when none."))
    unit_price: Money = column(f"(r.unit_price, {SHOP_CURRENCY})",
                               description="The price of one unit when it was ordered.")
    amount_charged: Money = column(f"(r.amount_charged, {SHOP_CURRENCY})",
                                   description="What the line cost: quantity times unit price.")
    product: Product = known("products", "r.product_id", description="The product ordered.")


@strawberry.type(description="A purchase; seen by its customer and by staff.")
class Order:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    idempotency_key: str = strawberry.field(
        description="The key it was placed with (unique per customer).")
    placed_at: datetime = strawberry.field(description="When it was placed (ISO 8601, UTC).")
    customer: Customer = column("r.customer_id", description="Who placed it.")
    amount_charged: Money = column("(r.amount_charged, r.currency)", description=(
        "What was taken so far (charges and captures, before refunds): its lines' units in "
        "stock in full, its back orders by their products' `paymentMode` (the rest as their "
        "units are set aside). See `charges`."))
    amount_refunded: Money = column("(r.amount_refunded, r.currency)",
                                    description="What was refunded (cancelled back orders).")
    shipping: ShippingPreference = strawberry.field(description=(
        "How its parts ship: as each is set aside, or together (`setOrderShipping`)."))
    amount_credited: Money = column("(r.amount_credited, r.currency)", description=(
        "Compensation credited for late back orders (a credit recorded for the shop to "
        "honour; no payment is moved)."))

    @executor_field("loads a list", description="Its lines, one per product.")
    async def lines(root: models.Order, info: Info) -> list[OrderLine]:
        return await info.context.loaders.lines.load(root.id)  # type: ignore[return-value]

    @executor_field("loads a list", description="The back orders its lines made.")
    async def back_orders(root: models.Order, info: Info) -> list[BackOrder]:
        return await info.context.loaders.back_orders.load(root.id)  # type: ignore[return-value]

    @executor_field("loads a list", description=(
        "Its payment ledger, oldest first: every charge, authorization, capture, void and "
        "refund, with its reason and state (amounts and states only; no payment provider "
        "is called)."))
    async def charges(root: models.Order, info: Info) -> list[Charge]:
        return await info.context.loaders.charges.load(root.id)  # type: ignore[return-value]


@strawberry.type(description=(
    "One entry of an order's payment ledger; seen by its customer and by staff."))
class Charge:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    kind: ChargeKind = strawberry.field(description="What it did with the money.")
    reason: ChargeReason = strawberry.field(description="Why it was made.")
    amount: Money = column(f"(r.amount, {SHOP_CURRENCY})", description="How much.")
    state: ChargeState = strawberry.field(description="Where it stands.")
    at: datetime = strawberry.field(description="When it was made (ISO 8601, UTC).")
    back_order_id: strawberry.ID | None = column(
        "str(r.back_order_id) if r.back_order_id is not None else None", description=(
            "The back order it is for; null for units an order line took from stock."))
    order_id: strawberry.ID = column("str(r.order_id)",
                                     description="The order whose ledger it is in.")
    valid_until: datetime | None = strawberry.field(description=(
        "An authorization's: when it lapses (ISO 8601, UTC); null for other kinds."))
    flagged_at: datetime | None = strawberry.field(description=(
        "An authorization's: when it was flagged as soon to lapse (its customer told); null "
        "if not (yet)."))
    closed_at: datetime | None = strawberry.field(description=(
        "An authorization's: when it was captured or voided in full, or replaced; null "
        "while it holds money or lapsed."))


First = Annotated[int | None, strawberry.argument(description=(
    "Page size: 0 up to the server's page limit (BACKORDERS_MAX_PAGE_SIZE, 100 unless "
    "set); 20 (or the limit, if lower) when null."))]
After = Annotated[str | None, strawberry.argument(description=(
    "Read the items after this cursor (a page's `endCursor`); null for the first page."))]

ProductConnection = Connection[Product]
BackOrderConnection = Connection[BackOrder]
OrderConnection = Connection[Order]
