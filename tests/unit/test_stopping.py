"""Background loops stop when told to, even when a cancel is lost under them (as 3.11's
``asyncio.wait_for`` can lose one inside a database or broker client): the relay and the
revocation poller cancel again until their loop has ended."""

from __future__ import annotations

import asyncio

import pytest

from api.domain.revocation import Revocations
from api.realtime import stopping
from api.realtime.bus import EventBus
from api.realtime.hub import Hub
from api.realtime.relay import OutboxRelay
from api.realtime.revocations import RevocationPoller


async def _loses_the_first_cancel() -> None:
    """A loop whose first cancel is swallowed where it waits; it then goes on waiting."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        pass
    await asyncio.Event().wait()


async def _stops_within(stop: object, seconds: float = 3) -> None:
    task = asyncio.ensure_future(stop)  # type: ignore[call-overload]
    done, _ = await asyncio.wait({task}, timeout=seconds)  # (a hang detector)
    assert done == {task}, "stop() still waits for a loop whose cancel was lost"
    task.result()


async def test_the_helper_cancels_until_the_task_ends(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    monkeypatch.setattr(stopping, "RETRY_SECONDS", 0.05)
    task = asyncio.create_task(_loses_the_first_cancel())
    await asyncio.sleep(0)
    await _stops_within(stopping.cancel_until_done([task]))
    assert task.cancelled()


async def test_the_relay_and_the_poller_stop_though_a_cancel_is_lost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopping, "RETRY_SECONDS", 0.05)
    relay = OutboxRelay(EventBus("memory://", Hub()), postgres=False)
    poller = RevocationPoller(Revocations(), 60)
    for loop in (relay, poller):
        loop._task = asyncio.create_task(_loses_the_first_cancel())
        await asyncio.sleep(0)
        await _stops_within(loop.stop())
        assert loop._task.cancelled()
