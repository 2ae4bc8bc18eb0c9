"""The input rules of ``api.domain.validation`` with the limit of the column each input is
stored in or looked up by, read from the model: the column is the one declaration of it.

Every string argument passes one of these before the use case touches the database, so a
value too long for its column or holding a control character is ``InvalidInput`` naming
the field, never an error of the ORM or of the database.
"""

from __future__ import annotations

from tortoise.models import Model

from api.domain import validation
from api.domain.errors import InvalidInput
from api.store.models import (
    NotificationPreferences,
    Order,
    OrderLine,
    Product,
    Restock,
    TokenRevocation,
)

REASON_LENGTH = 200
"""A cancellation's or a count's reason: kept in the history's detail, which has no column."""
CURSOR_LENGTH = 200
"""An opaque cursor: base64 of a key no longer than the longest key a page is ordered by."""


def column_length(model: type[Model], column: str) -> int:
    """The declared length of a text column."""
    length = model._meta.fields_map[column].max_length  # type: ignore[attr-defined]
    assert isinstance(length, int), f"{model.__name__}.{column} has no length"
    return length


SKU = column_length(Product, "sku")
NAME = column_length(Product, "name")
EARLY_BIRD_BONUS = column_length(Product, "early_bird_bonus")
NOTE = column_length(Restock, "note")
CUSTOMER_ID = column_length(Order, "customer_id")
IDEMPOTENCY_KEY = column_length(Order, "idempotency_key")
TRACKING_CODE = column_length(OrderLine, "tracking_code")
EMAIL = column_length(NotificationPreferences, "email")
PHONE = column_length(NotificationPreferences, "phone")
PUSH_TARGET = column_length(NotificationPreferences, "push_target")
SUBJECT = column_length(TokenRevocation, "subject")


def new_sku(value: str, field: str = "sku") -> str:
    """A SKU for a new product or an order line: the pattern and the column's length."""
    return validation.sku(value, field, SKU)


def sku(value: str, field: str = "sku") -> str:
    """A SKU to look a product up by (one that cannot exist is simply not found)."""
    return validation.lookup(value, field, SKU)


def customer_id(value: str, field: str = "customerId") -> str:
    return validation.lookup(value, field, CUSTOMER_ID)


def tracking_code(value: str) -> str:
    return validation.text(value, "trackingCode", TRACKING_CODE, required=False)


def reason(value: str) -> str:
    return validation.text(value, "reason", REASON_LENGTH, required=False)


PRIORITY_RANGE = (-100, 100)


def priority(value: int, field: str = "priority") -> int:
    """A back order's priority: higher goes first in its queue; 0 for everyone by default."""
    low, high = PRIORITY_RANGE
    if value < low or value > high:
        raise InvalidInput(field, f"must be between {low} and {high}")
    return value


def cursor(value: str, field: str = "after") -> str:
    return validation.lookup(value, field, CURSOR_LENGTH)


def subject(value: str, field: str = "subject") -> str:
    """A token's subject (its ``sub``, as given): printable, not empty, at most 128."""
    validation.lookup(value, field, SUBJECT)
    if not value.strip():
        raise InvalidInput(field, "must not be empty")
    return value
