"""Notify-me lists in GraphQL: a customer's place on a product's waitlist, the hold offered
to them and its claim (mixed into ``Query`` and ``Mutation``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.domain import validation
from api.graphql.context import Info
from api.graphql.enums import WaitlistStatus
from api.graphql.errors import (
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from api.graphql.fields import column, executor_field, known
from api.graphql.types import SHOP_CURRENCY, After, Connection, Customer, First, Money, Order
from api.graphql.types import Product as ProductType
from api.services import reads, waitlist
from api.store import models


@strawberry.type(description=(
    "A customer's place on the waitlist (notify-me list) of a product that is out of stock. "
    "When units become free and no back order waits for them, they are held for "
    "waitlisters in the order they joined; seen by the customer and by staff."))
class WaitlistEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    product: ProductType = known("products", "r.product_id",
                                 description="The product they wait for.")
    customer: Customer = column("r.customer_id", description="Who waits.")
    quantity: int = strawberry.field(description="Units they asked for.")
    status: WaitlistStatus = strawberry.field(description="Where it stands.")
    held_quantity: int = column("r.held", description=(
        "Units held for them now (HOLDING); at most `quantity` (fewer when fewer were free); "
        "0 otherwise."))
    held_price: Money | None = column(
        f"(r.held_price, {SHOP_CURRENCY}) if r.held_price is not None else None",
        description=("The unit price the hold was offered at (a claim pays it, whatever the "
                     "price is now); null before a hold was offered."))
    hold_expires_at: datetime | None = strawberry.field(description=(
        "Until when the hold may be claimed (ISO 8601, UTC); null before a hold was "
        "offered."))
    joined_at: datetime = strawberry.field(description="When they joined (ISO 8601, UTC).")
    closed_at: datetime | None = strawberry.field(description=(
        "When it was claimed, expired or left (ISO 8601, UTC); null while open."))
    version: int = strawberry.field(description="Grows by one with every change.")

    @executor_field("loads the order it may have", description=(
        "The order the hold became (CLAIMED); null otherwise."))
    async def order(root: models.WaitlistEntry, info: Info) -> Order | None:
        if root.order_id is None:
            return None
        return await info.context.loaders.order.load(root.order_id)  # type: ignore[return-value]


WaitlistEntryConnection = Connection[WaitlistEntry]


@strawberry.type(description="The waitlist entry as it is now.")
class WaitlistEntryPayload:
    entry: WaitlistEntry = strawberry.field(description="The entry.")


@strawberry.type(description="The claimed hold and the order it became.")
class ClaimHoldPayload:
    entry: WaitlistEntry = strawberry.field(description="The entry, now CLAIMED.")
    order: Order = strawberry.field(description=(
        "The order: one line of the held units at the held price, allocated from stock."))
    replayed: bool = strawberry.field(description=(
        "True when the hold had been claimed before (the same order is answered)."))


WaitlistEntryResult = Annotated[
    Union[WaitlistEntryPayload, InvalidInputError, NotFoundError,  # noqa: UP007
          ForbiddenError, InvalidTransitionError],
    strawberry.union("WaitlistEntryResult", description=(
        "The waitlist entry, or why nothing was changed."))]
ClaimHoldResult = Annotated[
    Union[ClaimHoldPayload, InvalidInputError, NotFoundError,  # noqa: UP007
          ForbiddenError, InvalidTransitionError],
    strawberry.union("ClaimHoldResult", description=(
        "The claimed hold and its order, or why nothing was changed."))]

EntryId = Annotated[strawberry.ID, strawberry.argument(
    description="The waitlist entry's id.")]


def _id(value: strawberry.ID) -> int:
    return validation.row_id(str(value), "id")


@strawberry.type
class WaitlistQueries:
    @strawberry.field(description=(
        "Waitlist entries you may see (your own; staff: all), newest first."))
    async def waitlist_entries(
        self, info: Info,
        first: First = None,
        after: After = None,
        sku: Annotated[str | None, strawberry.argument(
            description="Only this product's entries.")] = None,
        status: Annotated[list[WaitlistStatus] | None, strawberry.argument(
            description="Only entries in one of these states; null for all.")] = None,
        customer_id: Annotated[str | None, strawberry.argument(description=(
            "Staff: only this customer's entries (a customer sees only their own)."))
        ] = None,
    ) -> WaitlistEntryConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        page = await waitlist.list_entries(info.context.actor, sku, status, size, after,
                                           customer_id)
        return WaitlistEntryConnection.of(page)


@strawberry.type
class WaitlistMutations:
    @strawberry.mutation(description=(
        "Join the waitlist of a product that is OUT_OF_STOCK (back orders not allowed, or "
        "the cap reached), without paying: freed units are held for waitlisters in the "
        "order they joined (HOLD_OFFERED). Joining again while on it answers the entry "
        "unchanged. A product that can be ordered: InvalidTransitionError (from its "
        "availability, or DISCONTINUED)."))
    async def join_waitlist(
        self, info: Info,
        sku: Annotated[str, strawberry.argument(description="The product's SKU.")],
        quantity: Annotated[int, strawberry.argument(
            description="Units wanted, 1 to 100000.")] = 1,
        customer_id: Annotated[str | None, strawberry.argument(description=(
            "Staff: join for this customer (a customer joins for themselves)."))] = None,
    ) -> WaitlistEntryResult:
        row = await waitlist.join(info.context.actor, sku, quantity, customer_id)
        return WaitlistEntryPayload(entry=row)  # type: ignore[arg-type]

    @strawberry.mutation(description=(
        "Leave a waitlist; units held for you pass to the next in line. Leaving again "
        "answers the entry; a claimed or expired one: InvalidTransitionError."))
    async def leave_waitlist(self, info: Info, id: EntryId) -> WaitlistEntryResult:
        row = await waitlist.leave(info.context.actor, _id(id))
        return WaitlistEntryPayload(entry=row)  # type: ignore[arg-type]

    @strawberry.mutation(description=(
        "Claim a hold: an order for the held units at the held price, allocated from stock "
        "at once. Claiming again answers the same order (`replayed`). After "
        "`holdExpiresAt`, or for an entry not HOLDING: InvalidTransitionError (from "
        "EXPIRED, WAITING, LEFT...)."))
    async def claim_hold(self, info: Info, id: EntryId) -> ClaimHoldResult:
        claimed = await waitlist.claim(info.context.actor, _id(id),
                                       info.context.settings.currency)
        return ClaimHoldPayload(entry=claimed.entry,  # type: ignore[arg-type]
                                order=claimed.order,  # type: ignore[arg-type]
                                replayed=claimed.replayed)
