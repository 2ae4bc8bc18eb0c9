"""Python's cyclic garbage collector, kept out of the way of fan-out.

A full collection walks every object the process holds, and nothing else runs meanwhile: at
5,000 open subscriptions that is about 700 ms on this project's machine kind, and it comes
most often while subscribers are arriving, just when events must go out to them. Objects
that live as long as a connection do not need walking again and again, so every few seconds
the collector collects what is new (cheap: only what is not frozen) and then freezes what
survived (``gc.freeze``): later collections, automatic or not, skip it.

Reference counting still frees frozen objects when the last reference goes; only a frozen
reference cycle would outlive its connection (or whatever else held it). So a full
collection of everything still runs, and what survives is frozen again, when a quarter of
the connections open have closed, or when the frozen objects have grown by a quarter since
the last full one (Python's own rule: a full collection once a quarter more objects have
lived long) and ten minutes have passed since it. Without that wait, subscribers arriving
by the thousand would bring a full collection every few seconds, as Python does.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import time
from collections.abc import Callable


class Collector:
    def __init__(self, seconds: float, open_connections: Callable[[], int],
                 closed_connections: Callable[[], int], least_closed: int = 100,
                 growth_wait: float = 600.0) -> None:
        """``closed_connections``: how many have closed since the process started."""
        self.seconds = seconds
        self.growth_wait = growth_wait
        self.open_connections = open_connections
        self.closed_connections = closed_connections
        self.least_closed = least_closed
        self.full_collections = 0
        self._closed_before = closed_connections()
        self._frozen_after_full = -1  # the first settling is a full collection
        self._full_at = -math.inf
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.seconds > 0 and self._task is None:
            self.settle()
            self._task = asyncio.create_task(self._run(), name="gc-settle")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        gc.unfreeze()

    def settle(self) -> None:
        """Collect what is new, or everything when it is time; freeze what survived."""
        closed = self.closed_connections()
        now = time.monotonic()
        full = (closed - self._closed_before >= max(self.least_closed,
                                                    self.open_connections() // 4)
                or (now - self._full_at >= self.growth_wait
                    and gc.get_freeze_count() > self._frozen_after_full * 5 // 4))
        if full:
            self._closed_before = closed
            self._full_at = now
            self.full_collections += 1
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        if full:
            self._frozen_after_full = gc.get_freeze_count()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            self.settle()
