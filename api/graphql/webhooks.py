"""Webhooks in GraphQL: endpoints (never their secrets), deliveries and their attempts, and
the staff's queries and mutations over them (mixed into ``Query`` and ``Mutation``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Union

import orjson
import strawberry
from strawberry.scalars import JSON

from api.domain import validation
from api.domain.webhooks import WebhookEvent as WebhookEventValue
from api.domain.webhooks import webhook_id
from api.graphql.context import Info
from api.graphql.enums import WebhookDeliveryStatus, WebhookEvent
from api.graphql.errors import (
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from api.graphql.fields import column, executor_field, helper
from api.graphql.types import After, Connection, First
from api.services import reads, webhooks
from api.store import models


@helper
def _webhook_events(stored: list[str]) -> list[WebhookEventValue]:
    return [WebhookEventValue(e) for e in stored]


@helper
def _webhook_id(delivery_id: int) -> str:
    return webhook_id(delivery_id)


@strawberry.type(description=(
    "A system of the shop's (a storefront, an ERP) that receives signed deliveries of the "
    "events it wants. Its secret is never shown."))
class WebhookEndpoint:
    id: strawberry.ID = strawberry.field(description="The endpoint's id.")
    url: str = strawberry.field(description="Where deliveries are POSTed.")
    events: list[WebhookEvent] = column(
        "_webhook_events(r.events)", description="The events it receives.")
    description: str = strawberry.field(description="Staff's note on what it is.")
    enabled: bool = strawberry.field(description=(
        "False: no new deliveries are made for it, and its pending ones wait until it is "
        "enabled again."))
    previous_secret_expires_at: datetime | None = column(
        "r.previous_secret_until if r.previous_secret else None", description=(
            "After a rotation, until when the previous secret also signs each delivery "
            "(a second `v1,` signature); null when only the current one does."))
    created_by: str = strawberry.field(description="The staff member who registered it.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    updated_at: datetime = strawberry.field(description="When it last changed.")


@strawberry.type(description="One try at a delivery, as the delivery log records it.")
class WebhookAttempt:
    number: int = strawberry.field(description="1 for the first try, and so on.")
    outcome: str = strawberry.field(description=(
        "DELIVERED, FAILED, or UNKNOWN (the sender stopped or died before the receiver "
        "answered: it may have arrived, and is sent again with the same webhook-id)."))
    status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when it did not answer.")
    error: str | None = strawberry.field(description="What went wrong, when it did.")
    duration_ms: int | None = strawberry.field(description="How long the try took.")
    worker: str = strawberry.field(description="The dispatcher that made it.")
    at: datetime = strawberry.field(description="When it ended.")


@strawberry.type(description=(
    "One event for one endpoint: the same body and `webhook-id` on every attempt."))
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's id.")
    webhook_id: str = column("_webhook_id(r.id)", description=(
        "The `webhook-id` header of every attempt: a receiver keeps one delivery per id."))
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint it is for.")
    event_type: str = strawberry.field(
        description="The body's `type`, e.g. `back_order.updated`.")
    subject: str = column("r.key", description=(
        "What changed: the back order's id or the product's SKU. Deliveries of one subject "
        "to one endpoint go out in the order of the changes."))
    status: WebhookDeliveryStatus = strawberry.field(
        description="Where it stands.")
    attempts: int = strawberry.field(description="Tries so far.")
    due_at: datetime = strawberry.field(description="When it is (or was) next due.")
    last_error: str | None = strawberry.field(description="Why the last try failed.")
    last_status_code: int | None = strawberry.field(
        description="The receiver's HTTP status on the last try.")
    delivered_at: datetime | None = strawberry.field(
        description="When the receiver acknowledged it.")
    created_at: datetime = strawberry.field(description="When it was written.")
    payload: JSON = column("_json(r.body)", description="The body sent, as JSON.")

    @executor_field("loads a list", description="Every try, oldest first.")
    async def attempt_log(root: models.WebhookDelivery, info: Info) -> list[WebhookAttempt]:
        return await webhooks.attempts_of(root.id)  # type: ignore[return-value]


@helper
def _json(text: str) -> Any:
    return orjson.loads(text)


WebhookEndpointConnection = Connection[WebhookEndpoint]
WebhookDeliveryConnection = Connection[WebhookDelivery]


@strawberry.input(description="A new endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description=(
        "An absolute https:// (or http://) URL without credentials; private and loopback "
        "addresses only where BACKORDERS_WEBHOOK_ALLOW_PRIVATE allows them."))
    events: list[WebhookEvent] = strawberry.field(
        description="The events it wants; at least one.")
    secret: str = strawberry.field(description=(
        "The signing secret in the Standard Webhooks form: `whsec_` and the base64 of 24 to "
        "64 random bytes. Write-only: it is never shown again."))
    description: str = strawberry.field(default="", description="A note for staff.")


@strawberry.input(description="What to change on an endpoint; a null field is kept.")
class UpdateWebhookEndpointInput:
    url: str | None = strawberry.field(default=None, description="A new URL (as on create).")
    events: list[WebhookEvent] | None = strawberry.field(
        default=None, description="The events it wants from now on; at least one.")
    description: str | None = strawberry.field(default=None, description="A new note.")
    enabled: bool | None = strawberry.field(
        default=None, description="False pauses it; true resumes it.")


@strawberry.type(description="The endpoint as it is now (its secret is never shown).")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint = strawberry.field(description="The endpoint.")


@strawberry.type(description="The endpoint is gone, with its deliveries.")
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The id it had.")


@strawberry.type(description="The delivery as it is now.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery = strawberry.field(description="The delivery.")


WebhookEndpointResult = Annotated[
    Union[WebhookEndpointPayload, InvalidInputError, NotFoundError, ForbiddenError],  # noqa: UP007
    strawberry.union("WebhookEndpointResult", description=(
        "The endpoint, or why nothing was changed."))]
DeleteWebhookEndpointResult = Annotated[
    Union[DeleteWebhookEndpointPayload, InvalidInputError, NotFoundError,  # noqa: UP007
          ForbiddenError],
    strawberry.union("DeleteWebhookEndpointResult", description=(
        "The deleted id, or why nothing was changed."))]
WebhookDeliveryResult = Annotated[
    Union[WebhookDeliveryPayload, InvalidInputError, InvalidTransitionError,  # noqa: UP007
          NotFoundError, ForbiddenError],
    strawberry.union("WebhookDeliveryResult", description=(
        "The delivery, or why nothing was changed."))]


def _id(value: strawberry.ID, field: str = "id") -> int:
    return validation.row_id(str(value), field)


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Staff: the webhook endpoints, oldest first.")
    async def webhook_endpoints(
        self, info: Info,
        first: First = None,
        after: After = None,
    ) -> WebhookEndpointConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        page = await webhooks.list_endpoints(info.context.actor, size, after)
        return WebhookEndpointConnection.of(page)

    @strawberry.field(description="Staff: the webhook delivery log, newest first.")
    async def webhook_deliveries(
        self, info: Info,
        first: First = None,
        after: After = None,
        endpoint_id: Annotated[strawberry.ID | None, strawberry.argument(
            description="Only this endpoint's deliveries.")] = None,
        status: Annotated[list[WebhookDeliveryStatus] | None, strawberry.argument(
            description="Only deliveries in these states, e.g. [DEAD].")] = None,
    ) -> WebhookDeliveryConnection:
        size = reads.page_size(first, info.context.settings.max_page_size)
        endpoint = _id(endpoint_id, "endpointId") if endpoint_id is not None else None
        page = await webhooks.list_deliveries(info.context.actor, size, after, endpoint,
                                              status)
        return WebhookDeliveryConnection.of(page)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description=(
        "Staff: register an endpoint; every later change it wants is POSTed to it, signed "
        "as Standard Webhooks says."))
    async def create_webhook_endpoint(
        self, info: Info,
        input: Annotated[CreateWebhookEndpointInput, strawberry.argument(
            description="The endpoint.")],
    ) -> WebhookEndpointResult:
        row = await webhooks.create_endpoint(
            info.context.actor, input.url, input.events, input.secret, input.description,
            info.context.settings.webhook_private_allowed)
        return WebhookEndpointPayload(endpoint=row)  # type: ignore[arg-type]

    @strawberry.mutation(description="Staff: change an endpoint's URL, events, note or state.")
    async def update_webhook_endpoint(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")],
        input: Annotated[UpdateWebhookEndpointInput, strawberry.argument(
            description="What to change.")],
    ) -> WebhookEndpointResult:
        change = webhooks.EndpointChange(url=input.url, events=input.events,
                                         description=input.description, enabled=input.enabled)
        row = await webhooks.update_endpoint(info.context.actor, _id(id), change,
                                             info.context.settings.webhook_private_allowed)
        return WebhookEndpointPayload(endpoint=row)  # type: ignore[arg-type]

    @strawberry.mutation(description=(
        "Staff: sign with a new secret from now on; the old one keeps signing beside it for "
        "`overlapHours`, so the receiver can switch without refusing a delivery."))
    async def rotate_webhook_secret(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")],
        secret: Annotated[str, strawberry.argument(
            description="The new secret (`whsec_` and base64 of 24 to 64 bytes).")],
        overlap_hours: Annotated[float | None, strawberry.argument(description=(
            "How long the old secret still signs; 0 stops it at once. Default: "
            "BACKORDERS_WEBHOOK_SECRET_OVERLAP_HOURS."))] = None,
    ) -> WebhookEndpointResult:
        hours = (info.context.settings.webhook_secret_overlap_hours if overlap_hours is None
                 else overlap_hours)
        row = await webhooks.rotate_secret(info.context.actor, _id(id), secret, hours)
        return WebhookEndpointPayload(endpoint=row)  # type: ignore[arg-type]

    @strawberry.mutation(description="Staff: remove an endpoint and its deliveries.")
    async def delete_webhook_endpoint(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")],
    ) -> DeleteWebhookEndpointResult:
        deleted = await webhooks.delete_endpoint(info.context.actor, _id(id))
        return DeleteWebhookEndpointPayload(deleted_id=strawberry.ID(str(deleted)))

    @strawberry.mutation(description=(
        "Staff: send a DEAD delivery again, due at once, with the same body and webhook-id."))
    async def retry_webhook_delivery(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The delivery's id.")],
    ) -> WebhookDeliveryResult:
        row = await webhooks.retry_delivery(info.context.actor, _id(id))
        return WebhookDeliveryPayload(delivery=row)  # type: ignore[arg-type]
