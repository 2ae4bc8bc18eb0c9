"""The broadcaster between instances: it reconnects by itself, and tells the hub when it did."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from broadcaster import Broadcast

from api.realtime.events import CHANNEL, unpack
from api.realtime.hub import Hub
from api.realtime.stopping import cancel_until_done

log = logging.getLogger("backorders.realtime")

HEARTBEAT = '[["heartbeat","",{}]]'
STOP_RETRY_SECONDS = 1.0


class EventBus:
    """Publishes packed events; listens on one channel and hands what arrives to the hub.

    broadcaster does not notice a dead broker by itself (a Redis listener just hangs), so
    every instance publishes a heartbeat and treats a silent channel as a broken one.
    """

    def __init__(self, url: str, hub: Hub, heartbeat: float = 2.0) -> None:
        self.url = url
        self.hub = hub
        self.heartbeat = heartbeat
        self.connected = asyncio.Event()
        self._broadcast: Broadcast | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._publish_lock = asyncio.Lock()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._beat())]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        """Cancel the listener and the heartbeat, again each second until they end: a cancel
        can be lost inside broadcaster or redis (3.11's ``asyncio.wait_for`` drops one that
        races a result), and the listener then reconnected on and shutdown never ended."""
        await cancel_until_done(self._tasks, STOP_RETRY_SECONDS)
        await self._close()

    async def publish(self, message: str) -> None:
        """One at a time: the PostgreSQL backend breaks under concurrent publishes."""
        async with self._publish_lock:
            broadcast = self._broadcast
            if broadcast is None or not self.connected.is_set():
                raise ConnectionError("the event bus is not connected")
            await broadcast.publish(channel=CHANNEL, message=message)

    async def probe(self) -> bool:
        """Whether the broker takes a message now (a heartbeat): after a refused event, it
        tells that event's own fault from a broker that is out."""
        try:
            await asyncio.wait_for(self.publish(HEARTBEAT), self.heartbeat)
        except Exception:
            return False
        return True

    async def _listen(self) -> None:
        delay = 0.2
        first = True
        while True:
            try:
                broadcast = Broadcast(self.url)
                await broadcast.connect()
                self._broadcast = broadcast
                async with broadcast.subscribe(channel=CHANNEL) as subscriber:
                    self.connected.set()
                    if not first:
                        self.hub.resync_all()
                    first, delay = False, 0.2
                    log.info("event bus connected to %s", _safe(self.url))
                    while True:
                        event = await asyncio.wait_for(subscriber.get(), self.heartbeat * 3)
                        self._deliver(event.message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any broker failure: reconnect
                log.warning("event bus lost (%s: %s); reconnecting", type(exc).__name__, exc)
            self.connected.clear()
            await self._close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _deliver(self, message: str) -> None:
        """Hand a message's events to the hub. One that cannot be read or addressed is
        logged and dropped: it is no reason to drop the connection, nor the others."""
        try:
            events = unpack(message)
        except Exception as exc:
            log.error("event bus: unreadable message dropped (%s: %s)", type(exc).__name__, exc)
            return
        for item in events:
            try:
                self.hub.dispatch(item)
            except Exception as exc:
                log.error("event bus: event %s:%s dropped (%s: %s)", item.topic, item.key,
                          type(exc).__name__, exc)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.publish(HEARTBEAT), self.heartbeat)

    async def _close(self) -> None:
        broadcast, self._broadcast = self._broadcast, None
        if broadcast is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(broadcast.disconnect(), 2)


def _safe(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
