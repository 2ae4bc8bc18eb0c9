"""Typed domain errors. Each carries data and a stable ``code``; the GraphQL layer maps them."""

from __future__ import annotations

from datetime import date


class DomainError(Exception):
    """Base of every expected, typed failure of a use case."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """One input field is wrong; nothing was changed."""

    code = "INVALID_INPUT"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class Forbidden(DomainError):
    code = "FORBIDDEN"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutOfStock(DomainError):
    """The product cannot take the requested quantity now (nor as a back order)."""

    code = "OUT_OF_STOCK"

    def __init__(self, sku: str, requested: int, orderable: int, reason: str) -> None:
        super().__init__(f"{sku}: {requested} requested, {orderable} can be ordered ({reason})")
        self.sku = sku
        self.requested = requested
        self.orderable = orderable
        self.reason = reason


class CustomerLimitReached(DomainError):
    """The order would take one customer over the product's limit of units on back order."""

    code = "CUSTOMER_LIMIT_REACHED"

    def __init__(self, sku: str, limit: int, held: int, requested: int) -> None:
        super().__init__(f"{sku}: at most {limit} units on back order per customer; you have "
                         f"{held}, this order would add {requested}")
        self.sku = sku
        self.limit = limit
        self.held = held
        self.requested = requested


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"

    def __init__(self, entity: str, from_status: str, to_status: str) -> None:
        super().__init__(f"{entity} cannot go from {from_status} to {to_status}")
        self.entity = entity
        self.from_status = from_status
        self.to_status = to_status


class InsufficientStock(DomainError):
    """Stock cannot drop below what is already promised to orders."""

    code = "INSUFFICIENT_STOCK"

    def __init__(self, sku: str, requested_change: int, free: int) -> None:
        super().__init__(f"{sku}: cannot remove {-requested_change}, only {free} unpromised")
        self.sku = sku
        self.requested_change = requested_change
        self.free = free


class DuplicateSku(DomainError):
    code = "DUPLICATE_SKU"

    def __init__(self, sku: str) -> None:
        super().__init__(f"a product with sku {sku!r} exists already")
        self.sku = sku


class IdempotencyConflict(DomainError):
    """The idempotency key was used before with a different order."""

    code = "IDEMPOTENCY_CONFLICT"

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was used for a different order")
        self.key = key


class NotReleased(DomainError):
    code = "NOT_RELEASED"

    def __init__(self, sku: str, release_date: date) -> None:
        super().__init__(f"{sku} is not released until {release_date.isoformat()}")
        self.sku = sku
        self.release_date = release_date


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many orders: retry in {round(retry_after)} s")
        self.retry_after = retry_after
