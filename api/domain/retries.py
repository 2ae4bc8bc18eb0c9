"""Retry waits: exponential backoff with jitter, for messages and webhook deliveries."""

from __future__ import annotations

from collections.abc import Callable


def backoff_ceiling(attempt: int, base: float, cap: float) -> float:
    """The longest wait after failed attempt ``attempt`` (1, 2, ...): base doubled each
    time, never over ``cap``."""
    doublings = min(max(attempt - 1, 0), 62)
    return min(cap, base * float(2 ** doublings))


def backoff(attempt: int, base: float, cap: float, draw: Callable[[], float]) -> float:
    """The wait after failed attempt ``attempt``: in the upper half of its ceiling, so
    receivers that failed together do not come back together. ``draw`` is in [0, 1)."""
    ceiling = backoff_ceiling(attempt, base, cap)
    return ceiling / 2 + draw() * ceiling / 2
