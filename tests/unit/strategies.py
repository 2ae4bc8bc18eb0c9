"""Hypothesis strategies shared by the domain tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import strategies as st

from api.domain.model import QueueEntry
from api.domain.queue import in_queue_order

START = datetime(2025, 3, 1, 9, 0)


def queued_entry(
    entry_id: int, priority: int, minute: int, quantity: int, allocated_seed: int
) -> QueueEntry:
    """A waiting or partly allocated back order: 0 <= allocated < quantity."""
    placed_at = START + timedelta(minutes=minute)
    return QueueEntry(entry_id, priority, placed_at, quantity, allocated_seed % quantity)


queued_entries = st.builds(
    queued_entry,
    entry_id=st.integers(1, 10_000),
    priority=st.integers(0, 3),
    # A narrow range of minutes makes ties on placed_at common, so the id tie-break runs.
    minute=st.integers(0, 5),
    quantity=st.integers(1, 20),
    allocated_seed=st.integers(0, 19),
)

queues = st.lists(queued_entries, unique_by=lambda e: e.id, max_size=15).map(in_queue_order)
"""Waiting or partly allocated back orders with unique ids, already in queue order."""
