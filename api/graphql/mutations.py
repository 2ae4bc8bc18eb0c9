"""Mutations: each returns a union of its payload and the typed errors it can meet."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Union

import strawberry

from api.domain.errors import RateLimited
from api.domain.model import Policy
from api.graphql.context import Info
from api.graphql.delivery import Notification
from api.graphql.demand import DemandMutations
from api.graphql.errors import (
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
from api.graphql.webhooks import WebhookMutations
from api.services import (
    backorders,
    catalog,
    deliveries,
    ordering,
    preferences,
    restocks,
    revocations,
)


@strawberry.input
class BackorderPolicyInput:
    allow_backorders: bool | None = None
    backorder_cap: int | None = strawberry.field(
        default=None, description="Null keeps the cap; see clearBackorderCap.")
    clear_backorder_cap: bool = False
    lead_time_days: int | None = None
    handling_days: int | None = None
    release_date: date | None = None
    clear_release_date: bool = False
    delay_grace_days: int | None = None
    low_stock_threshold: int | None = None
    discontinued: bool | None = None

    def change(self) -> catalog.PolicyChange:
        return catalog.PolicyChange(
            allow_backorders=self.allow_backorders, cap=self.backorder_cap,
            clear_cap=self.clear_backorder_cap, lead_time_days=self.lead_time_days,
            handling_days=self.handling_days, release_date=self.release_date,
            clear_release_date=self.clear_release_date, delay_grace_days=self.delay_grace_days,
            low_stock_threshold=self.low_stock_threshold, discontinued=self.discontinued,
        )


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    price: Decimal
    digital: bool = False
    on_hand: int = 0
    policy: BackorderPolicyInput | None = None


@strawberry.input
class ScheduleRestockInput:
    sku: str
    quantity: int
    expected_date: date
    note: str = ""


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int


@strawberry.input
class PlaceOrderInput:
    lines: list[OrderLineInput]
    idempotency_key: str = strawberry.field(
        description="Unique per customer; a retry with the same key and lines returns the "
        "first order.")
    customer_id: str | None = strawberry.field(default=None, description="Staff only.")
    priority: int = strawberry.field(default=0, description="Staff only; higher goes first.")


@strawberry.type
class ProductPayload:
    product: Product


@strawberry.type
class RestockPayload:
    restock: Restock


@strawberry.type
class BackOrderPayload:
    back_order: BackOrder


@strawberry.type
class OrderLinePayload:
    line: OrderLine


@strawberry.type
class PlaceOrderPayload:
    order: Order
    replayed: bool = strawberry.field(
        description="True when this idempotency key had placed the order before.")


@strawberry.type
class NotificationPayload:
    notification: Notification


@strawberry.type(description="Every token of the subject issued until `revokedBefore` is "
                 "refused from now on, on every instance.")
class RevokeTokensPayload:
    subject: str = strawberry.field(description="The token subject (`sub`) revoked.")
    revoked_before: datetime = strawberry.field(description=(
        "Tokens issued (`iat`) at or before this time get 401 over HTTP and are refused or "
        "closed (4403, \"token revoked\") on websockets."))


def _union(name: str, *members: type) -> object:
    return Annotated[Union[members], strawberry.union(name)]  # noqa: UP007


COMMON = (InvalidInputError, NotFoundError, ForbiddenError)
ProductResult = _union("ProductResult", ProductPayload, *COMMON, DuplicateSkuError,
                       InsufficientStockError)
RestockResult = _union("RestockResult", RestockPayload, *COMMON, InvalidTransitionError)
PlaceOrderResult = _union("PlaceOrderResult", PlaceOrderPayload, *COMMON, OutOfStockError,
                          IdempotencyConflictError, RateLimitedError)
OrderLineResult = _union("OrderLineResult", OrderLinePayload, *COMMON, InvalidTransitionError)
NotificationResult = _union("NotificationResult", NotificationPayload, *COMMON,
                            InvalidTransitionError)
RevokeTokensResult = Annotated[
    Union[RevokeTokensPayload, InvalidInputError, ForbiddenError],  # noqa: UP007
    strawberry.union("RevokeTokensResult", description="The revocation, or why not.")]
BackOrderResult = _union("BackOrderResult", BackOrderPayload, *COMMON, InvalidTransitionError,
                         NotReleasedError)


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


@strawberry.type
class Mutation(WebhookMutations, DemandMutations):
    @strawberry.mutation(description="Staff: add a product with its back-order policy.")
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductResult:  # type: ignore[valid-type]
        row = await catalog.create_product(
            info.context.actor, input.sku, input.name, input.price, input.digital,
            input.on_hand, _policy(input.policy),
        )
        return ProductPayload(product=row)

    @strawberry.mutation(description="Staff: change a product's back-order policy.")
    async def update_backorder_policy(
        self, info: Info, sku: str, input: BackorderPolicyInput
    ) -> ProductResult:  # type: ignore[valid-type]
        row = await catalog.update_backorder_policy(info.context.actor, sku, input.change())
        return ProductPayload(product=row)

    @strawberry.mutation(description="Staff: count stock in (+) or out (-).")
    async def adjust_stock(
        self, info: Info, sku: str, delta: int, reason: str = ""
    ) -> ProductResult:  # type: ignore[valid-type]
        row = await catalog.adjust_stock(info.context.actor, sku, delta, reason)
        return ProductPayload(product=row)

    @strawberry.mutation(description="Staff: expect a delivery.")
    async def schedule_restock(
        self, info: Info, input: ScheduleRestockInput
    ) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.schedule_restock(
            info.context.actor, input.sku, input.quantity, input.expected_date, input.note
        )
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Staff: move a delivery's date or change its quantity.")
    async def reschedule_restock(
        self,
        info: Info,
        id: strawberry.ID,
        expected_date: date | None = None,
        quantity: int | None = None,
    ) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.reschedule_restock(
            info.context.actor, parse_id(id), expected_date, quantity
        )
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Staff: count a delivery in, in full or in part.")
    async def receive_restock(
        self, info: Info, id: strawberry.ID, quantity: int | None = None
    ) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.receive_restock(info.context.actor, parse_id(id), quantity)
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Staff: a delivery will not come.")
    async def cancel_restock(self, info: Info, id: strawberry.ID) -> RestockResult:  # type: ignore[valid-type]
        row = await restocks.cancel_restock(info.context.actor, parse_id(id))
        return RestockPayload(restock=row)

    @strawberry.mutation(description="Buy: what is in stock is allocated, the rest back-ordered.")
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderResult:  # type: ignore[valid-type]
        await _rate_limit_order(info)
        placed = await ordering.place_order(
            info.context.actor,
            [ordering.LineRequest(line.sku, line.quantity) for line in input.lines],
            input.idempotency_key,
            info.context.settings.currency,
            customer_id=input.customer_id,
            priority=input.priority,
        )
        return PlaceOrderPayload(order=placed.order, replayed=placed.replayed)

    @strawberry.mutation(description="Cancel an open back order with a full refund.")
    async def cancel_back_order(
        self, info: Info, id: strawberry.ID, reason: str = ""
    ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await backorders.cancel_back_order(info.context.actor, parse_id(id), reason)
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description="Staff: ship an allocated back order.")
    async def ship_back_order(
        self, info: Info, id: strawberry.ID, tracking_code: str = ""
    ) -> BackOrderResult:  # type: ignore[valid-type]
        row = await backorders.ship_back_order(info.context.actor, parse_id(id), tracking_code)
        return BackOrderPayload(back_order=row)

    @strawberry.mutation(description="Where and about what a customer hears of changes.")
    async def set_notification_preferences(
        self, info: Info, input: NotificationPreferencesInput
    ) -> NotificationPreferencesResult:
        row = await preferences.set_preferences(
            info.context.actor, input.to_service(), customer_id=input.customer_id
        )
        return NotificationPreferencesPayload(preferences=row)

    @strawberry.mutation(description="Staff: ship the units an order line took from stock.")
    async def ship_order_line(
        self, info: Info, id: strawberry.ID, tracking_code: str = ""
    ) -> OrderLineResult:  # type: ignore[valid-type]
        row = await backorders.ship_order_line(info.context.actor, parse_id(id), tracking_code)
        return OrderLinePayload(line=row)

    @strawberry.mutation(description=(
        "Staff: send again a message that was set aside or failed (see notifications(status:"
        " [SET_ASIDE, FAILED])); it is due at once."))
    async def retry_notification(self, info: Info, id: strawberry.ID) -> NotificationResult:  # type: ignore[valid-type]
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
