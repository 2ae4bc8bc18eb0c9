"""One instance's subscribers: each gets a bounded queue, so a stalled one costs little."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from api.realtime.events import Event


class Resync:
    """Marker: events may have been missed (the broker reconnected); reread the truth."""


RESYNC = Resync()


class Overflow(Exception):
    """The subscriber fell too far behind; its stream ends and the client resumes."""


class Subscription:
    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[Event | Resync] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def offer(self, item: Event | Resync) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # A full queue means its reader is not waiting: it sees this on its next get.
            self.overflowed = True

    async def get(self) -> Event | Resync:
        if self.overflowed:
            raise Overflow("too far behind: resubscribe to resume from the current state")
        return await self._queue.get()


class Hub:
    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._by_key: dict[str, set[Subscription]] = {}

    @contextmanager
    def subscribe(self, keys: Iterable[str]) -> Iterator[Subscription]:
        subscription = Subscription(self.queue_size)
        keys = list(keys)
        for key in keys:
            self._by_key.setdefault(key, set()).add(subscription)
        try:
            yield subscription
        finally:
            for key in keys:
                subscribers = self._by_key.get(key)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._by_key[key]

    def dispatch(self, event: Event) -> None:
        for key in event.addresses():
            for subscription in list(self._by_key.get(key, ())):
                subscription.offer(event)

    def resync_all(self) -> None:
        for subscription in {s for group in self._by_key.values() for s in group}:
            subscription.offer(RESYNC)

    @property
    def subscriptions(self) -> int:
        return len({s for group in self._by_key.values() for s in group})
