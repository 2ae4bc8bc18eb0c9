"""The event bus stops when it is told to, even where a library under it lost the cancel."""

from __future__ import annotations

import asyncio

import pytest

from api.realtime import bus as bus_module
from api.realtime.bus import EventBus
from api.realtime.hub import Hub


class LosesOneCancel:
    """A broker client whose connect loses the first cancel it gets and fails instead (as
    a library's ``asyncio.wait_for`` can on Python 3.11), then takes cancels as it should."""

    lost = 0

    def __init__(self, url: str) -> None:
        self.url = url

    async def connect(self) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if LosesOneCancel.lost:
                raise
            LosesOneCancel.lost += 1
        raise ConnectionError("connection closed")

    async def disconnect(self) -> None:
        pass


async def test_the_bus_stops_when_a_cancel_is_lost_under_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_module, "Broadcast", LosesOneCancel)
    monkeypatch.setattr(bus_module, "STOP_RETRY_SECONDS", 0.1)
    bus = EventBus("redis://nowhere:6379/0", Hub())
    bus._tasks = [asyncio.create_task(bus._listen())]
    await asyncio.sleep(0.05)  # connecting
    stopping = asyncio.create_task(bus.stop())
    done, _ = await asyncio.wait({stopping}, timeout=3)
    for task in (stopping, *bus._tasks):  # before: the listener reconnected, stop() waited
        task.cancel()
    assert stopping in done and LosesOneCancel.lost == 1
    assert all(task.done() for task in bus._tasks)
