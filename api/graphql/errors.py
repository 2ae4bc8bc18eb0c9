"""Domain errors as GraphQL types: the one place where a raised error becomes a result."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import date
from typing import Any

import strawberry
from graphql import GraphQLError

from api.domain import errors
from api.store.outages import OUTAGES, RETRY_AFTER_SECONDS, outage_of

log = logging.getLogger("backorders.graphql")


@strawberry.interface(description="An expected failure: nothing was changed.")
class Error:
    code: str = strawberry.field(description=(
        "A stable code for programs, one per error type (e.g. INVALID_INPUT, NOT_FOUND)."))
    message: str = strawberry.field(
        description="What went wrong, in English, for people; its wording may change.")


@strawberry.type(description="An argument or input field was refused (INVALID_INPUT).")
class InvalidInputError(Error):
    field: str = strawberry.field(
        description="The refused argument or input field, as the schema names it (`quantity`).")


@strawberry.type(description=(
    "Nothing of that kind has that key, or you may not see it (NOT_FOUND)."))
class NotFoundError(Error):
    kind: str = strawberry.field(description="What was looked for, e.g. Product or BackOrder.")
    key: str = strawberry.field(description="The id or SKU looked for.")


@strawberry.type(description=(
    "Not allowed (FORBIDDEN): no token where one is needed, staff only, or another "
    "customer's."))
class ForbiddenError(Error):
    pass


@strawberry.type(description="A line asks for more than can be ordered now (OUT_OF_STOCK).")
class OutOfStockError(Error):
    sku: str = strawberry.field(description="The product of the line.")
    requested: int = strawberry.field(description="Units the line asked for.")
    orderable: int = strawberry.field(
        description="Units that can be ordered now, in stock and back-ordered.")
    reason: str = strawberry.field(description=(
        "Why no more: `discontinued`, `back orders not allowed` or `back-order cap "
        "reached`."))


@strawberry.type(description=(
    "A line would take the customer past the product's limit of units on back order or "
    "pre-order per customer (CUSTOMER_LIMIT_REACHED); nothing was placed."))
class CustomerLimitReachedError(Error):
    sku: str = strawberry.field(description="The product of the line.")
    limit: int = strawberry.field(
        description="Units one customer may have on back order of it at once.")
    held: int = strawberry.field(description=(
        "Units the customer has on back order of it already (open back orders, allocated "
        "or not, until shipped or cancelled)."))
    requested: int = strawberry.field(
        description="Units this line would have put on back order.")


@strawberry.type(description=(
    "The thing is not in a state that allows this (INVALID_TRANSITION), e.g. cancelling a "
    "shipped back order."))
class InvalidTransitionError(Error):
    entity: str = strawberry.field(description=(
        "What it is: back order, restock, order line, notification or webhook delivery."))
    from_status: str = strawberry.field(description="Its status now.")
    to_status: str = strawberry.field(description="The status (or action) asked for.")


@strawberry.type(description=(
    "Stock cannot be counted out below what is promised to orders (INSUFFICIENT_STOCK)."))
class InsufficientStockError(Error):
    sku: str = strawberry.field(description="The product.")
    requested_change: int = strawberry.field(description="The change asked for, in units (< 0).")
    free: int = strawberry.field(description="Units that could be counted out.")


@strawberry.type(description="A product with this SKU exists already (DUPLICATE_SKU).")
class DuplicateSkuError(Error):
    sku: str = strawberry.field(description="The SKU taken.")


@strawberry.type(description=(
    "This idempotency key placed a different order before (IDEMPOTENCY_CONFLICT): use a new "
    "key for a new order."))
class IdempotencyConflictError(Error):
    idempotency_key: str = strawberry.field(description="The key used twice.")


@strawberry.type(description="Too many orders from you in a short time (RATE_LIMITED).")
class RateLimitedError(Error):
    retry_after_seconds: int = strawberry.field(
        description="Seconds to wait before trying again (also the Retry-After header).")


@strawberry.type(description="The product is not released yet, so it cannot ship (NOT_RELEASED).")
class NotReleasedError(Error):
    sku: str = strawberry.field(description="The product.")
    release_date: date = strawberry.field(
        description="The day it is released (ISO 8601 date).")


def _base(exc: errors.DomainError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message}


class _Handler(strawberry.ExceptionHandler):  # type: ignore[type-arg]
    """Turns one domain exception type into its GraphQL error type."""

    def __init__(self, exception: type[errors.DomainError], error_type: type, build: Any) -> None:
        self.exception_type = exception
        self.error_type = error_type
        self._build = build

    def handle(self, exception: Any, *, field: Any, info: Any) -> Any:
        return self.error_type(**_base(exception), **self._build(exception))


_handler = _Handler


EXCEPTION_HANDLERS = [
    _handler(errors.InvalidInput, InvalidInputError, lambda e: {"field": e.field}),
    _handler(errors.NotFound, NotFoundError, lambda e: {"kind": e.kind, "key": e.key}),
    _handler(errors.Forbidden, ForbiddenError, lambda e: {}),
    _handler(
        errors.OutOfStock,
        OutOfStockError,
        lambda e: {"sku": e.sku, "requested": e.requested, "orderable": e.orderable,
                   "reason": e.reason},
    ),
    _handler(
        errors.CustomerLimitReached,
        CustomerLimitReachedError,
        lambda e: {"sku": e.sku, "limit": e.limit, "held": e.held,
                   "requested": e.requested},
    ),
    _handler(
        errors.InvalidTransition,
        InvalidTransitionError,
        lambda e: {"entity": e.entity, "from_status": e.from_status, "to_status": e.to_status},
    ),
    _handler(
        errors.InsufficientStock,
        InsufficientStockError,
        lambda e: {"sku": e.sku, "requested_change": e.requested_change, "free": e.free},
    ),
    _handler(errors.DuplicateSku, DuplicateSkuError, lambda e: {"sku": e.sku}),
    _handler(errors.IdempotencyConflict, IdempotencyConflictError,
             lambda e: {"idempotency_key": e.key}),
    _handler(errors.RateLimited, RateLimitedError,
             lambda e: {"retry_after_seconds": math.ceil(e.retry_after)}),
    _handler(errors.NotReleased, NotReleasedError,
             lambda e: {"sku": e.sku, "release_date": e.release_date}),
]


def with_codes(errors_: list[GraphQLError]) -> list[GraphQLError]:
    """Domain errors raised outside a union (in queries) carry their code in ``extensions``;
    an outage of the database is ``SERVICE_UNAVAILABLE`` (logged once per outage, see
    ``api/store/outages.py``; the view answers 503); other unexpected exceptions are masked:
    the client gets an error id, the log the traceback."""
    return [_with_code(error) for error in errors_]


def _with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error
    if not isinstance(original, errors.DomainError):
        outage = outage_of(original)
        if outage is not None:
            OUTAGES.failed(outage)
            return unavailable(error)
        return _masked(error, original)
    extensions = {**(error.extensions or {}), "code": original.code}
    if isinstance(original, errors.InvalidInput):
        extensions["field"] = original.field
    return recoded(error, extensions, original.message, original)


def recoded(error: GraphQLError, extensions: dict[str, Any], message: str | None = None,
            original: Exception | None = None) -> GraphQLError:
    """``error`` where it was (nodes, source, positions, path), with these extensions and,
    when given, another message and original error."""
    return GraphQLError(message if message is not None else error.message, nodes=error.nodes,
                        source=error.source, positions=error.positions, path=error.path,
                        original_error=original, extensions=extensions)


def request_codes(errors_: list[GraphQLError]) -> list[GraphQLError]:
    """Every error carries a code: one the request itself caused (it does not parse, breaks
    a rule or a limit, or its variables do not fit) gets the code clients know for it; an
    execution error has its own already (``with_codes``)."""
    return [error if (error.extensions or {}).get("code") else recoded(
        error, {**(error.extensions or {}), "code": _request_code(error)},
        original=error.original_error) for error in errors_]


def _request_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


UNAVAILABLE = "SERVICE_UNAVAILABLE"


def unavailable(error: GraphQLError) -> GraphQLError:
    return recoded(error, {"code": UNAVAILABLE, "retryAfterSeconds": RETRY_AFTER_SECONDS},
                   "The service is unavailable (its database cannot be used now); try again "
                   f"in {RETRY_AFTER_SECONDS} s.")


def is_unavailable(errors_: list[GraphQLError] | None) -> bool:
    return any((e.extensions or {}).get("code") == UNAVAILABLE for e in errors_ or ())


def _masked(error: GraphQLError, original: BaseException) -> GraphQLError:
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s at %s", error_id, error.path, exc_info=original)
    return recoded(error, {"code": "INTERNAL_ERROR", "errorId": error_id},
                   f"Unexpected error (reference {error_id}).")
