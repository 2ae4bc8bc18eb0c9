"""What an idle websocket subscriber holds: the hub's queue, uvicorn's receive queue, the
connection's loaders, and the compression setting."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from pydantic import ValidationError

from api.graphql.loaders import LazyLoaders, Loaders
from api.realtime.hub import RESYNC, Hub, Overflow, Subscription
from api.server import LeanWebSocketProtocol, ReceiveQueue, websocket_protocol
from api.settings import Settings


def _bytes_each(make: object, count: int = 200) -> float:
    """Bytes held per object made by ``make()`` (kept alive while measured)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [make() for _ in range(count)]  # type: ignore[operator]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == count
    return (after - before) / count


# The hub's subscription: bounded, small when idle.

async def test_an_idle_subscription_is_small() -> None:
    assert _bytes_each(lambda: Subscription(256)) < 300  # asyncio.Queue: about 3,000
    assert _bytes_each(lambda: asyncio.Queue(256)) > 2000  # what it replaced


async def test_a_waiting_reader_is_woken_by_an_offer() -> None:
    hub = Hub()
    with hub.subscribe(["a"]) as subscription:
        reader = asyncio.create_task(subscription.get())
        await asyncio.sleep(0)
        assert not reader.done()
        hub.resync_all()
        assert await asyncio.wait_for(reader, 1) is RESYNC
        assert subscription.pending == 0


async def test_it_holds_exactly_its_size_then_overflows() -> None:
    subscription = Subscription(8)
    for _ in range(8):
        subscription.offer(RESYNC)
    assert not subscription.overflowed and subscription.pending == 8
    assert await subscription.get() is RESYNC  # room for one more
    subscription.offer(RESYNC)
    subscription.offer(RESYNC)  # the ninth unread
    assert subscription.overflowed
    with pytest.raises(Overflow):
        await subscription.get()


async def test_a_cancelled_reader_leaves_nothing_behind() -> None:
    subscription = Subscription(8)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(subscription.get(), 0.01)
    subscription.offer(RESYNC)
    assert await asyncio.wait_for(subscription.get(), 1) is RESYNC


async def test_order_is_kept_across_waits() -> None:
    subscription = Subscription(16)
    got: list[object] = []

    async def read(count: int) -> None:
        for _ in range(count):
            got.append(await subscription.get())

    reader = asyncio.create_task(read(6))
    markers = [object() for _ in range(6)]
    for marker in markers[:2]:
        subscription.offer(marker)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    for marker in markers[2:]:
        subscription.offer(marker)  # type: ignore[arg-type]
    await asyncio.wait_for(reader, 1)
    assert got == markers


# uvicorn's receive queue, as the lean protocol has it.

async def test_the_receive_queue_is_fifo_and_wakes_its_reader() -> None:
    queue = ReceiveQueue()
    assert queue.empty()
    reader = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait({"type": "websocket.connect"})
    queue.put_nowait({"type": "websocket.receive", "text": "1"})
    assert await asyncio.wait_for(reader, 1) == {"type": "websocket.connect"}
    assert not queue.empty()
    assert await queue.get() == {"type": "websocket.receive", "text": "1"}
    assert queue.empty()


async def test_two_readers_of_the_receive_queue_each_get_one_message() -> None:
    queue = ReceiveQueue()
    readers = [asyncio.create_task(queue.get()) for _ in range(2)]
    await asyncio.sleep(0)
    queue.put_nowait({"type": "websocket.receive", "text": "a"})
    queue.put_nowait({"type": "websocket.receive", "text": "b"})
    got = await asyncio.wait_for(asyncio.gather(*readers), 1)
    assert sorted(str(m.get("text")) for m in got) == ["a", "b"]


def test_the_receive_queue_is_small() -> None:
    assert _bytes_each(ReceiveQueue) < 200


def test_the_default_implementation_gets_the_lean_protocol() -> None:
    assert websocket_protocol(Settings()) is LeanWebSocketProtocol
    assert websocket_protocol(Settings(websockets="websockets")) == "websockets"


# A websocket connection's loaders: made when first used.

def test_socket_loaders_are_made_on_first_use_and_kept() -> None:
    loaders = LazyLoaders()
    assert isinstance(loaders, Loaders)
    assert "product" not in vars(loaders)
    first = loaders.product
    assert loaders.product is first
    assert loaders.known_products == {} and loaders.known_products is loaders.known_products
    assert LazyLoaders().product is not first  # never shared between connections
    with pytest.raises(AttributeError):
        loaders.nothing_of_the_kind  # noqa: B018


def test_socket_loaders_cost_little_until_used() -> None:
    assert _bytes_each(LazyLoaders) < 200
    assert _bytes_each(Loaders) > 2000  # ten DataLoaders


# Compression: off unless asked for.

def test_per_message_deflate_is_off_by_default_and_can_be_turned_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKORDERS_WS_PER_MESSAGE_DEFLATE", raising=False)
    assert Settings().ws_per_message_deflate is False
    monkeypatch.setenv("BACKORDERS_WS_PER_MESSAGE_DEFLATE", "true")
    assert Settings().ws_per_message_deflate is True
    monkeypatch.setenv("BACKORDERS_WS_PER_MESSAGE_DEFLATE", "sometimes")
    with pytest.raises(ValidationError, match="ws_per_message_deflate"):
        Settings()
