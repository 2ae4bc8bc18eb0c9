"""Queue order: higher priority first, then earlier placement, then lower id.

Declared once, as ``QUEUE_ORDER``. Its other forms are rendered from it here: the ORM
ordering, the SQL ``ORDER BY`` (forward, and reversed to read a queue from its tail) and
the sort key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from api.domain.model import QueueEntry


class OrderField(NamedTuple):
    attribute: str
    descending: bool = False


QUEUE_ORDER: tuple[OrderField, ...] = (
    OrderField("priority", descending=True),
    OrderField("placed_at"),
    OrderField("id"),
)
"""Each attribute is a field of ``QueueEntry`` and a column of ``back_order`` of the same
name. A descending attribute must be a number: the sort key negates it."""

BEFORE_TIE_BREAK: tuple[OrderField, ...] = QUEUE_ORDER[:-1]
"""The queue order but for its last tie-break, the id: what the (product, status, priority,
placed_at) index orders by, and all a back order not saved yet can be compared on."""


def orm_ordering(order: Sequence[OrderField] = QUEUE_ORDER) -> tuple[str, ...]:
    """As Tortoise's ``order_by`` takes it: ``("-priority", "placed_at", "id")``."""
    return tuple(f"-{f.attribute}" if f.descending else f.attribute for f in order)


def sql_order_by(order: Sequence[OrderField] = QUEUE_ORDER, *, reverse: bool = False,
                 prefix: str = "") -> str:
    """The terms of an SQL ``ORDER BY``: ``priority DESC, placed_at, id``; ``reverse``
    gives the tail first (``priority, placed_at DESC, id DESC``). ``prefix`` goes before
    each column (a table alias and its dot)."""
    return ", ".join(f"{prefix}{f.attribute} DESC" if f.descending != reverse
                     else f"{prefix}{f.attribute}" for f in order)


def sort_key(item: object, order: Sequence[OrderField] = QUEUE_ORDER) -> tuple[Any, ...]:
    """What ``sorted`` orders ``item`` by, read from its attributes of the same names."""
    return tuple(-getattr(item, f.attribute) if f.descending else getattr(item, f.attribute)
                 for f in order)


def comes_after(item: object, last: object) -> bool:
    """True when ``item`` goes strictly behind ``last`` without looking at their ids."""
    return sort_key(item, BEFORE_TIE_BREAK) > sort_key(last, BEFORE_TIE_BREAK)


def queue_key(entry: QueueEntry) -> tuple[Any, ...]:
    return sort_key(entry)


def in_queue_order(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    return sorted(entries, key=queue_key)
