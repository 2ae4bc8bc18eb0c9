"""One instance's subscribers: each gets a bounded queue, so a stalled one costs little."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from api.realtime.events import Event


class Resync:
    """Marker: events may have been missed (the broker reconnected); reread the truth."""


RESYNC = Resync()


class Overflow(Exception):
    """The subscriber fell too far behind; its stream ends and the client resumes."""


class Subscription:
    """A bounded queue for one subscriber, made for thousands of idle ones: not an
    ``asyncio.Queue`` (four deques and an event: about 3 KiB a subscriber, idle or not), but a
    deque that exists only while events wait, and a future while the reader waits."""

    __slots__ = ("_items", "_size", "_waiter", "overflowed")

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: deque[Event | Resync] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False

    def offer(self, item: Event | Resync) -> None:
        if self.overflowed:
            return
        if self._items is None:
            self._items = deque()
        if len(self._items) >= self._size:
            # A full queue means its reader is not waiting: it sees this on its next get.
            self.overflowed = True
            self._items = None  # what it missed is reread on resubscribing
        else:
            self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Event | Resync:
        while True:
            if self.overflowed:
                raise Overflow("too far behind: resubscribe to resume from the current state")
            items = self._items
            if items:
                item = items.popleft()
                if not items:
                    self._items = None
                return item
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    @property
    def pending(self) -> int:
        """Events waiting to be read."""
        return len(self._items) if self._items else 0


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
