"""The garbage collector policy (api/realtime/collector.py): survivors are frozen out of
later collections, and frozen reference cycles are collected once enough connections closed."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from api.realtime.collector import Collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """A reference cycle nobody holds: only a collection can free it."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


class Connections:
    def __init__(self) -> None:
        self.open = 400
        self.closed = 0


def test_survivors_are_frozen_and_later_collections_skip_them() -> None:
    connections = Connections()
    collector = Collector(5, lambda: connections.open, lambda: connections.closed)
    kept = [Node() for _ in range(1_000)]
    collector.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert not any(node is kept[0] for node in gc.get_objects(generation=2))


def test_frozen_cycles_are_collected_once_a_quarter_of_the_connections_closed() -> None:
    connections = Connections()
    collector = Collector(5, lambda: connections.open, lambda: connections.closed,
                          least_closed=10)
    collector.settle()  # the first is a full one: nothing is frozen yet
    assert collector.full_collections == 1
    holder = [Node()]
    holder[0].other = Node()
    holder[0].other.other = holder[0]
    garbage = weakref.ref(holder[0])
    collector.settle()  # frozen while still held
    holder.clear()
    gc.collect()
    assert garbage() is not None, "a frozen cycle outlives collections"
    connections.closed = 99  # fewer than a quarter of 400
    collector.settle()
    assert garbage() is not None and collector.full_collections == 1
    connections.closed = 100
    collector.settle()
    assert garbage() is None and collector.full_collections == 2
    young = cycle()
    collector.settle()  # what is new is always collected
    assert young() is None


def test_frozen_cycles_are_collected_once_the_frozen_grew_by_a_quarter() -> None:
    collector = Collector(5, lambda: 0, lambda: 0, growth_wait=0)
    collector.settle()
    holder = [Node()]
    holder[0].other = Node()
    holder[0].other.other = holder[0]
    garbage = weakref.ref(holder[0])
    collector.settle()
    holder.clear()
    assert collector.full_collections == 1
    grown = [[Node()] for _ in range(gc.get_freeze_count() // 2)]
    collector.settle()  # freezes the growth
    collector.settle()  # sees it
    assert garbage() is None and collector.full_collections == 2
    assert grown


def test_growth_brings_a_full_collection_no_sooner_than_the_wait() -> None:
    collector = Collector(5, lambda: 0, lambda: 0, growth_wait=3600)
    collector.settle()
    grown = [[Node()] for _ in range(gc.get_freeze_count())]
    collector.settle()
    collector.settle()
    assert collector.full_collections == 1 and grown


async def test_it_settles_on_its_own_and_unfreezes_when_stopped() -> None:
    connections = Connections()
    collector = Collector(0.01, lambda: connections.open, lambda: connections.closed)
    collector.start()
    young = cycle()
    await asyncio.sleep(0.1)
    assert young() is None and gc.get_freeze_count() > 0
    await collector.stop()
    assert gc.get_freeze_count() == 0
    off = Collector(0, lambda: 0, lambda: 0)
    off.start()
    assert gc.get_freeze_count() == 0
    await off.stop()
