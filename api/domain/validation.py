"""Input rules shared by the use cases. Each failure names its field.

Every string a client sends passes one of these before it reaches the database: no control
characters (NUL and the rest of Unicode's Cc) and no lone surrogates, which PostgreSQL
cannot store, and no more characters than the column it is stored in or looked up by
(the callers pass that column's length, see ``api/services/inputs.py``).
"""

from __future__ import annotations

import re
from decimal import Decimal

from api.domain.errors import InvalidInput

SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_QUANTITY = 100_000
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters (Unicode category Cc) and surrogates (Cs)."""


def printable(value: str, field: str) -> str:
    """``value`` when it holds no control character or lone surrogate."""
    if UNPRINTABLE.search(value):
        raise InvalidInput(field, "must not contain control characters")
    return value


def lookup(value: str, field: str, maximum: int) -> str:
    """A key to look a row up by (as given): printable, at most the column's length."""
    printable(value, field)
    if len(value) > maximum:
        raise InvalidInput(field, f"at most {maximum} characters")
    return value


def sku(value: str, field: str, maximum: int) -> str:
    value = printable(value, field).strip()
    if len(value) > maximum or not SKU_PATTERN.fullmatch(value):
        raise InvalidInput(field, f"1 to {maximum} letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return value


def positive(value: int, field: str, maximum: int = MAX_QUANTITY) -> int:
    if value <= 0:
        raise InvalidInput(field, "must be greater than zero")
    if value > maximum:
        raise InvalidInput(field, f"must be at most {maximum}")
    return value


def non_negative(value: int, field: str, maximum: int = MAX_QUANTITY * 100) -> int:
    if value < 0:
        raise InvalidInput(field, "must not be negative")
    if value > maximum:
        raise InvalidInput(field, f"must be at most {maximum}")
    return value


def days(value: int, field: str) -> int:
    return non_negative(value, field, maximum=3650)


def price(value: Decimal, field: str = "price") -> Decimal:
    if not value.is_finite() or value < 0:
        raise InvalidInput(field, "must be a finite amount of zero or more")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput(field, "at most two decimal places")
    if value >= Decimal("1e10"):
        raise InvalidInput(field, "too large")
    return value


def text(value: str, field: str, maximum: int, required: bool = True) -> str:
    value = printable(value, field).strip()
    if required and not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > maximum:
        raise InvalidInput(field, f"at most {maximum} characters")
    return value


EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")


def email(value: str | None, field: str, maximum: int) -> str | None:
    if value is None or not printable(value, field).strip():
        return None
    value = value.strip()
    if len(value) > maximum or not EMAIL_PATTERN.match(value):
        raise InvalidInput(field, "not an email address")
    return value


def phone(value: str | None, field: str, maximum: int) -> str | None:
    if value is None or not printable(value, field).strip():
        return None
    value = value.strip().replace(" ", "")
    if len(value) > maximum or not PHONE_PATTERN.match(value):
        raise InvalidInput(field, "use the international form, such as +14155550100")
    return value


MAX_ID = 2**31 - 1
ID_PATTERN = re.compile(r"[0-9]{1,10}")
"""ASCII digits only: ``str.isdigit`` also takes '³' and '¹', which ``int`` refuses."""


def row_id(value: str, field: str = "id") -> int:
    """An id as the API shows it: digits only, within the database's key range."""
    text = value.strip()
    if not ID_PATTERN.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise InvalidInput(field, "not an id of this API")
    return int(text)
