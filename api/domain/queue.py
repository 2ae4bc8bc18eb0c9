"""Queue order: higher priority first, then earlier placement, then lower id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from api.domain.model import QueueEntry


def queue_key(entry: QueueEntry) -> tuple[int, datetime, int]:
    return (-entry.priority, entry.placed_at, entry.id)


def in_queue_order(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    return sorted(entries, key=queue_key)
