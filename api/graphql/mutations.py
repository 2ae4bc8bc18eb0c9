"""Mutations: each returns a union of its payload and the typed errors it can meet."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Union

import strawberry

from api.domain.errors import RateLimited
from api.domain.model import Policy
from api.domain.model import Shipping as ShippingValue
from api.domain.payments import PaymentTerms
from api.domain.promises import Compensation
from api.graphql.context import Info
from api.graphql.delivery import Notification
from api.graphql.demand import DemandMutations
from api.graphql.enums import PaymentMode, ShippingPreference
from api.graphql.errors import (
    CustomerLimitReachedError,
    DuplicateSkuError,
    ForbiddenError,
    IdempotencyConflictError,
    InsufficientStockError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    NotReleasedError,
    OutOfStockError,
    RateLimitedError,
)
from api.graphql.preferences import (
    NotificationPreferencesInput,
    NotificationPreferencesPayload,
    NotificationPreferencesResult,
)
from api.graphql.queries import parse_id
from api.graphql.types import BackOrder, Order, OrderLine, Product, Restock
from api.graphql.waitlist import WaitlistMutations
from api.graphql.webhooks import WebhookMutations
from api.services import (
    backorders,
    catalog,
    deliveries,
    ordering,
    payments,
    preferences,
    promises,
    releases,
    restocks,
    revocations,
)


@strawberry.input(description=(
    "Compensation for late back orders: once an open back order is more than `afterDays` "
    "past its promised date, it is credited once with `amount` or `percent` of what it "
    "cost. Give exactly one of the two."))
class CompensationInput:
    after_days: int = strawberry.field(description=(
        "Days past the promised date before the credit is due, 0 to 365."))
    amount: Decimal | None = strawberry.field(default=None, description=(
        "A fixed credit in the shop's currency, as a decimal string, more than zero (never "
        "more than the back order cost)."))
    percent: Decimal | None = strawberry.field(default=None, description=(
        "A percent of what the back order cost, more than 0 and at most 100 (rounded to "
        "the cent)."))

    def policy(self) -> Compensation:
        return Compensation(self.after_days, self.amount, self.percent)


@strawberry.input(description=(
    "When back-ordered units are paid for: `mode`, and for a DEPOSIT either `depositAmount` "
    "or `depositPercent` (InvalidInputError otherwise)."))
class PaymentTermsInput:
    mode: PaymentMode = strawberry.field(description="When they are paid for.")
    deposit_amount: Decimal | None = strawberry.field(default=None, description=(
        "A DEPOSIT's fixed amount per back order in the shop's currency, as a decimal "
        "string, more than zero, in cents (a back order that costs less pays its cost)."))
    deposit_percent: Decimal | None = strawberry.field(default=None, description=(
        "A DEPOSIT's percent of what the back order costs, more than 0 and less than 100 "
        "(rounded to the cent)."))

    def terms(self) -> PaymentTerms:
        return PaymentTerms(self.mode, self.deposit_amount, self.deposit_percent)


@strawberry.input(description=(
    "A back-order policy, or a change of one: a null field keeps what is there (on "
    "createProduct, the default)."))
class BackorderPolicyInput:
    allow_backorders: bool | None = strawberry.field(
        default=None, description="Whether units may be back-ordered (default true).")
    backorder_cap: int | None = strawberry.field(default=None, description=(
        "At most this many back-ordered units waiting at once, 0 or more; null keeps the "
        "cap (none by default), see clearBackorderCap."))
    clear_backorder_cap: bool = strawberry.field(
        default=False, description="True removes the cap (no limit).")
    lead_time_days: int | None = strawberry.field(default=None, description=(
        "Days to ship when no scheduled restock covers an order, 0 to 3650 (default 14)."))
    handling_days: int | None = strawberry.field(
        default=None, description="Days from allocation to shipping, 0 to 3650 (default 1).")
    release_date: date | None = strawberry.field(default=None, description=(
        "Pre-order until this day (ISO 8601 date, UTC): it is released by itself on that "
        "day. Moving it tells every pre-order's customer once, with the old and the new "
        "day; today or earlier releases it now (as `releaseProduct`). On a released "
        "product a later day announces it again (a pre-order until then). Null keeps it, "
        "see clearReleaseDate."))
    clear_release_date: bool = strawberry.field(
        default=False,
        description="True removes the release date (a pre-order is released now).")
    delay_grace_days: int | None = strawberry.field(default=None, description=(
        "Days an estimate may slip past its promise before the back order is delayed, 0 to "
        "3650 (default 2)."))
    low_stock_threshold: int | None = strawberry.field(
        default=None, description="At or below this many free units: LOW_STOCK (default 5).")
    customer_limit: int | None = strawberry.field(default=None, description=(
        "At most this many units one customer may have on back order or pre-order at once, "
        "1 or more (an order over it gets CustomerLimitReachedError); null keeps the limit "
        "(none by default), see clearCustomerLimit."))
    clear_customer_limit: bool = strawberry.field(
        default=False, description="True removes the per-customer limit.")
    pre_order_cap: int | None = strawberry.field(default=None, description=(
        "While it is a pre-order (before `releaseDate`): at most this many units on "
        "pre-order at once, 0 or more, whatever stock is on hand (an order over it gets "
        "OutOfStockError, reason \"pre-order cap reached\"); null keeps it (none by default: "
        "then the units on hand plus the back-order cap bound them, as after the release), "
        "see clearPreOrderCap."))
    clear_pre_order_cap: bool = strawberry.field(
        default=False, description="True removes the pre-order cap.")
    early_bird_size: int | None = strawberry.field(default=None, description=(
        "The first this many pre-orders (1 or more, in the order they were placed) are early "
        "birds and are told so; a cancelled early bird's mark goes to the next pre-order "
        "placed after it that has none (a staff priority moves a pre-order up the line, not "
        "into the early birds). A larger size marks the next ones at once; a smaller one "
        "keeps the marks given. Only pre-orders are marked. Null keeps it (none by "
        "default), see clearEarlyBirdSize."))
    clear_early_bird_size: bool = strawberry.field(
        default=False, description="True: no more early birds (the marks given stay).")
    early_bird_bonus: str | None = strawberry.field(default=None, description=(
        "What an early bird gets, in the shop's words (\"a signed print\"), at most 200 "
        "characters, shown in their messages; null keeps it, \"\" for none."))
    payment: PaymentTermsInput | None = strawberry.field(default=None, description=(
        "When back-ordered and pre-ordered units are paid for (units in stock: in full at "
        "order); null keeps the terms (IN_FULL by default). New terms apply to back orders "
        "placed from now on; open ones keep what they were placed with, except that their "
        "units set aside are always paid for."))
    compensation: CompensationInput | None = strawberry.field(default=None, description=(
        "The product's own compensation for late back orders (it wins over the shop's); "
        "null keeps it (none by default: the shop's applies), see clearCompensation."))
    clear_compensation: bool = strawberry.field(default=False, description=(
        "True removes the product's own compensation: the shop's applies (if any)."))
    discontinued: bool | None = strawberry.field(
        default=None, description="True stops new orders; open back orders stay.")

    def change(self) -> catalog.PolicyChange:
        return catalog.PolicyChange(
            allow_backorders=self.allow_backorders, cap=self.backorder_cap,
            clear_cap=self.clear_backorder_cap, lead_time_days=self.lead_time_days,
            handling_days=self.handling_days, release_date=self.release_date,
            clear_release_date=self.clear_release_date, delay_grace_days=self.delay_grace_days,
            low_stock_threshold=self.low_stock_threshold, customer_limit=self.customer_limit,
            clear_customer_limit=self.clear_customer_limit, discontinued=self.discontinued,
            pre_order_cap=self.pre_order_cap, clear_pre_order_cap=self.clear_pre_order_cap,
            early_bird_size=self.early_bird_size,
            clear_early_bird_size=self.clear_early_bird_size,
            early_bird_bonus=self.early_bird_bonus,
            compensation=self.compensation.policy() if self.compensation else None,
            clear_compensation=self.clear_compensation,
            payment=self.payment.terms() if self.payment else None,
        )


@strawberry.input(description="A new product.")
class CreateProductInput:
    sku: str = strawberry.field(description="Its SKU, unique in the shop.")
    name: str = strawberry.field(description="The name shown to customers.")
    price: Decimal = strawberry.field(description=(
        "The unit price in the shop's currency, as a decimal string (`\"12.50\"`): zero or "
        "more, at most two decimal places."))
    digital: bool = strawberry.field(default=False, description="True when it is not shipped.")
    on_hand: int = strawberry.field(default=0, description="Units in the warehouse now.")
    policy: BackorderPolicyInput | None = strawberry.field(
        default=None, description="Its back-order policy; null for the defaults.")


@strawberry.input(description="A delivery the shop expects.")
class ScheduleRestockInput:
    sku: str = strawberry.field(description="The product it brings.")
    quantity: int = strawberry.field(description="Units expected; at least 1.")
    expected_date: date = strawberry.field(
        description="When it is expected (ISO 8601 date): today or later, within ten years.")
    note: str = strawberry.field(default="", description="A note for staff.")


@strawberry.input(description="One product to buy.")
class OrderLineInput:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: int = strawberry.field(description="Units to buy; at least 1.")


@strawberry.input(description="An order: what is in stock is taken, the rest back-ordered.")
class PlaceOrderInput:
    lines: list[OrderLineInput] = strawberry.field(
        description="One line per product; at least one.")
    idempotency_key: str = strawberry.field(
        description="Unique per customer; a retry with the same key and lines returns the "
        "first order.")
    customer_id: str | None = strawberry.field(default=None, description=(
        "Staff only: the customer to order for; null for the signed-in customer."))
    priority: int = strawberry.field(default=0, description=(
        "Staff only: the back orders' priority in their queues; higher goes first."))
    shipping: ShippingPreference = strawberry.field(
        default=ShippingValue.SHIP_AS_ALLOCATED, description=(
            "Ship each part as it is set aside (default), or everything together; "
            "`setOrderShipping` changes it later."))


@strawberry.type(description="The product as it is now.")
class ProductPayload:
    product: Product = strawberry.field(description="The product.")


@strawberry.type(description="The restock as it is now.")
class RestockPayload:
    restock: Restock = strawberry.field(description="The restock.")


@strawberry.type(description="The back order as it is now.")
class BackOrderPayload:
    back_order: BackOrder = strawberry.field(description="The back order.")


@strawberry.type(description="The order line as it is now.")
class OrderLinePayload:
    line: OrderLine = strawberry.field(description="The line.")


@strawberry.type(description="The order placed (or placed before, with the same key).")
class PlaceOrderPayload:
    order: Order = strawberry.field(description="The order, with its lines and back orders.")
    replayed: bool = strawberry.field(
        description="True when this idempotency key had placed the order before.")


@strawberry.type(description="The order as it is now.")
class OrderPayload:
    order: Order = strawberry.field(description="The order.")


@strawberry.type(description="The message as it is now.")
class NotificationPayload:
    notification: Notification = strawberry.field(description="The message.")


@strawberry.type(description="Every token of the subject issued until `revokedBefore` is "
                 "refused from now on, on every instance.")
class RevokeTokensPayload:
    subject: str = strawberry.field(description="The token subject (`sub`) revoked.")
    revoked_before: datetime = strawberry.field(description=(
        "Tokens issued (`iat`) at or before this time get 401 over HTTP and are refused or "
        "closed (4403, \"token revoked\") on websockets."))


def _union(name: str, what: str, *members: type) -> object:
    return Annotated[Union[members], strawberry.union(  # noqa: UP007
        name, description=f"The {what}, or why nothing was changed.")]


COMMON = (InvalidInputError, NotFoundError, ForbiddenError)
ProductResult = _union("ProductResult", "product", ProductPayload, *COMMON, DuplicateSkuError,
                       InsufficientStockError)
ReleaseResult = _union("ReleaseResult", "product", ProductPayload, *COMMON,
                      InvalidTransitionError)
RestockResult = _union("RestockResult", "restock", RestockPayload, *COMMON,
                       InvalidTransitionError)
PlaceOrderResult = _union("PlaceOrderResult", "order", PlaceOrderPayload, *COMMON,
                          OutOfStockError, CustomerLimitReachedError, IdempotencyConflictError,
                          RateLimitedError)
OrderLineResult = _union("OrderLineResult", "order line", OrderLinePayload, *COMMON,
                         InvalidTransitionError)
OrderResult = _union("OrderResult", "order", OrderPayload, *COMMON)
NotificationResult = _union("NotificationResult", "message", NotificationPayload, *COMMON,
                            InvalidTransitionError)
RevokeTokensResult = Annotated[
    Union[RevokeTokensPayload, InvalidInputError, ForbiddenError],  # noqa: UP007
    strawberry.union("RevokeTokensResult", description="The revocation, or why not.")]
BackOrderResult = _union("BackOrderResult", "back order", BackOrderPayload, *COMMON,
                         InvalidTransitionError, NotReleasedError)


Sku = Annotated[str, strawberry.argument(description="The product's SKU.")]
RestockId = Annotated[strawberry.ID, strawberry.argument(description="The restock's id.")]
BackOrderId = Annotated[strawberry.ID, strawberry.argument(description="The back order's id.")]
TrackingCode = Annotated[str, strawberry.argument(
    description="The carrier's tracking code; empty when none.")]


def _policy(value: BackorderPolicyInput | None) -> Policy:
    default = Policy()
    if value is None:
        return default
    return catalog.apply_change(default, value.change())


async def _rate_limit_order(info: Info) -> None:
    limiter, actor = info.context.limiter, info.context.actor
    if limiter is None or actor is None:
        return
    try:
        await limiter.check_order(actor.subject, info.context.address)
    except RateLimited as exc:
        if info.context.response is not None:
            info.context.response.status_code = 429
            info.context.response.headers["Retry-After"] = str(math.ceil(exc.retry_after))
        raise


@strawberry.type(description=(
    "Changes, each in one transaction. An expected failure comes back as a member of the "
    "field's result union (`... on Error { code message }`), with nothing changed."))
class Mutation(WebhookMutations, DemandMutations, WaitlistMutations):
    @strawberry.mutation(description="Staff: add a product with its back-order policy.")
    async def create_product(
        self, info: Info,
        input: Annotated[CreateProductInput, strawberry.argument(description="The product.")],
    ) -> ProductResult:  # type: ignore[valid-type]
        row = await catalog.create_product(
            info.context.actor, input.sku, input.name, input.price, input.digital,
            input.on_hand, _policy(input.policy),
            compensation=input.policy.change().compensation if input.policy else None,
            early_bird_bonus=(input.policy.early_bird_bonus or "") if input.policy else "",
            payment=input.policy.change().payment if input.policy else None,
        )
        return ProductPayload(product=row)

    @strawberry.mutation(description="Staff: change a product's back-order policy.")
    async def update_backorder_policy(
        self, info: Info, sku: Sku,
        input: Annotated[BackorderPolicyInput, strawberry.argument(
            description="What to change; a null field is kept.")],
    ) -> ProductResult:  # type: ignore[valid-type]
        row = await catalog.update_backorder_policy(info.context.actor, sku, input.change())
        return ProductPayload(product=row)

    @strawberry.mutation(description=(
        "Staff: release a pre-order now, before its `releaseDate` (which becomes today): "
        "the units on hand go to its pre-orders in queue order, the rest keep their places "
        "with estimates, and every pre-order's customer is told (RELEASED). A product that "
        "is released already, or is no pre-order, gets InvalidTransitionError."))
    async def release_product(
        self, info: Info, sku: Sku,
    ) -> ReleaseResult:  # type: ignore[valid-type]
        row = await releases.release_product(info.context.actor, sku)
        return ProductPayload(product=row)

    @strawberry.mutation(description="Staff: count stock in (+) or out (-).")
    async def adjust_stock(
        self, info: Info, sku: Sku,
        delta: Annotated[int, strawberry.argument(description=(
            "Units: more than 0 counts in (waiting back orders get them first), less than 0 "
            "counts out (at most the free units); not 0."))],
        reason: Annotated[str, strawberry.argument(
            description="Why, for the record (e.g. a stock count).")] = "",
    ) -> ProductResult:  # type: ignore[valid-type]
        row = await catalog.adjust_stock(info.context.actor, sku, delta, reason)
        return ProductPayload(product=row)

    @strawberry.mutation(description="Staff: expect a delivery.")
    async def schedule_restock(
        self, info: Info,
        input: Annotated[ScheduleRestockInput, strawberry.argument(
            description="The delivery.")],
    ) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.schedule_restock(
            info.context.actor, input.sku, input.quantity, input.expected_date, input.note
        )
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Staff: move a delivery's date or change its quantity.")
    async def reschedule_restock(
        self,
        info: Info,
        id: RestockId,
        expected_date: Annotated[date | None, strawberry.argument(
            description="The new expected date (ISO 8601 date); null keeps it.")] = None,
        quantity: Annotated[int | None, strawberry.argument(description=(
            "The new quantity ordered; null keeps it. Down to what was received, it closes "
            "the restock as received."))] = None,
    ) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.reschedule_restock(
            info.context.actor, parse_id(id), expected_date, quantity
        )
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Staff: count a delivery in, in full or in part.")
    async def receive_restock(
        self, info: Info, id: RestockId,
        quantity: Annotated[int | None, strawberry.argument(description=(
            "Units that came; null for all that are outstanding. More than outstanding is "
            "an over-delivery, counted in too."))] = None,
    ) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.receive_restock(info.context.actor, parse_id(id), quantity)
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Staff: a delivery will not come.")
    async def cancel_restock(self, info: Info, id: RestockId) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.cancel_restock(info.context.actor, parse_id(id))
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Buy: what is in stock is allocated, the rest back-ordered.")
    async def place_order(
        self, info: Info,
        input: Annotated[PlaceOrderInput, strawberry.argument(description="The order.")],
    ) -> PlaceOrderResult:  # type: ignore[valid-type]
        await _rate_limit_order(info)
        placed = await ordering.place_order(
            info.context.actor,
            [ordering.LineRequest(line.sku, line.quantity) for line in input.lines],
            input.idempotency_key,
            info.context.settings.currency,
            customer_id=input.customer_id,
            priority=input.priority,
            shipping=input.shipping,
        )
        return PlaceOrderPayload(order=placed.order, replayed=placed.replayed)

    @strawberry.mutation(description="Cancel an open back order with a full refund.")
    async def cancel_back_order(
        self, info: Info, id: BackOrderId,
        reason: Annotated[str, strawberry.argument(
            description="Why, for the record.")] = "",
    ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await backorders.cancel_back_order(info.context.actor, parse_id(id), reason)
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description=(
        "Staff: change a waiting back order's priority (higher goes first; -100 to 100, 0 "
        "by default), e.g. for a VIP or a replacement for a damaged unit. The places, units "
        "ahead and dates of the whole queue move, each affected customer sees it live, the "
        "back order's customer is told (PRIORITY_CHANGED) and its history says who and "
        "why. The same priority again changes nothing."))
    async def set_back_order_priority(
        self, info: Info, id: BackOrderId,
        priority: Annotated[int, strawberry.argument(
            description="The new priority, -100 to 100.")],
        reason: Annotated[str, strawberry.argument(
            description="Why, for the record (required, at most 200 characters).")],
    ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await backorders.set_back_order_priority(
            info.context.actor, parse_id(id), priority, reason)
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description=(
        "The customer (or staff): set the day after which the back order cancels itself "
        "with a full refund if it has not shipped (the customer is told); null removes it. "
        "Today or later, at most two years ahead; the same value again changes nothing."))
    async def set_back_order_cancel_by(
        self, info: Info, id: BackOrderId,
        cancel_by: Annotated[date | None, strawberry.argument(description=(
            "The last day (ISO 8601 date, UTC) it may ship on; null for no limit."))],
    ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await promises.set_cancel_by(info.context.actor, parse_id(id), cancel_by)
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description=(
        "The customer (or staff) answers a delay offer with \"keep waiting\": the back "
        "order keeps its place and `delayOfferOpen` turns false until a later delay. "
        "`cancelBackOrder` is the other answer; an unanswered offer keeps the back order. "
        "With no open offer: InvalidTransitionError (from NO_OFFER or ACCEPTED)."))
    async def accept_delay(self, info: Info, id: BackOrderId
                           ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await promises.accept_delay(info.context.actor, parse_id(id))
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description=(
        "Staff: the shop asked the customer's payment again for what an open back order of "
        "a product paid ON_RELEASE still owes: a new authorization holds it for "
        "`BACKORDERS_AUTHORIZATION_VALID_DAYS` (the old one, flagged or lapsed, is closed). "
        "Nothing owed, a closed back order or another payment mode: InvalidTransitionError. "
        "No payment provider is called."))
    async def renew_authorization(self, info: Info, id: BackOrderId
                                  ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await payments.renew_authorization(info.context.actor, parse_id(id))
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description="Staff: ship an allocated back order.")
    async def ship_back_order(
        self, info: Info, id: BackOrderId, tracking_code: TrackingCode = "",
    ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await backorders.ship_back_order(info.context.actor, parse_id(id), tracking_code)
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description="Where and about what a customer hears of changes.")
    async def set_notification_preferences(
        self, info: Info,
        input: Annotated[NotificationPreferencesInput, strawberry.argument(
            description="The preferences, in full.")],
    ) -> NotificationPreferencesResult:
        row = await preferences.set_preferences(
            info.context.actor, input.to_service(), customer_id=input.customer_id
        )
        return NotificationPreferencesPayload(preferences=row)

    @strawberry.mutation(description=(
        "Staff: ship the part of a partly allocated back order that is set aside and not "
        "shipped yet (PARTIALLY_SHIPPED; the customer is told); the rest keeps its place in "
        "line and ships with `shipBackOrder` once allocated. An order that ships together, "
        "or nothing new set aside: InvalidTransitionError (from SHIPS_WITH_ITS_ORDER or "
        "NOTHING_NEW_SET_ASIDE); a fully allocated one: use `shipBackOrder`."))
    async def ship_allocated_units(
        self, info: Info, id: BackOrderId, tracking_code: TrackingCode = "",
    ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await backorders.ship_allocated_units(info.context.actor, parse_id(id),
                                                    tracking_code)
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description=(
        "The customer (or staff) choose how an order's parts ship: as each is set aside, or "
        "together once everything is there. Parts shipped already stay shipped."))
    async def set_order_shipping(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],
        shipping: Annotated[ShippingPreference, strawberry.argument(
            description="How its parts ship from now on.")],
    ) -> OrderResult:  # type: ignore[valid-type]
        row = await backorders.set_order_shipping(info.context.actor, parse_id(id), shipping)
        return OrderPayload(order=row)

    @strawberry.mutation(description="Staff: ship the units an order line took from stock.")
    async def ship_order_line(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order line's id.")],
        tracking_code: TrackingCode = "",
    ) -> OrderLineResult:  # type: ignore[valid-type]
        row = await backorders.ship_order_line(info.context.actor, parse_id(id), tracking_code)
        return OrderLinePayload(line=row)

    @strawberry.mutation(description=(
        "Staff: send again a message that was set aside or failed (see notifications(status:"
        " [SET_ASIDE, FAILED])); it is due at once."))
    async def retry_notification(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The message's id.")],
    ) -> NotificationResult:  # type: ignore[valid-type]
        row = await deliveries.retry_notification(info.context.actor, parse_id(id))
        return NotificationPayload(notification=row)

    @strawberry.mutation(description=(
        "Staff: refuse every token of a subject issued until now (a lost or compromised "
        "phone); the subject signs in again for a new one."))
    async def revoke_tokens(
        self, info: Info,
        subject: Annotated[str, strawberry.argument(
            description="The tokens' subject (their `sub` claim), as they carry it.")],
    ) -> RevokeTokensResult:
        row = await revocations.revoke_tokens(info.context.actor, subject,
                                              info.context.revocations)
        return RevokeTokensPayload(subject=row.subject, revoked_before=row.revoked_before)
