"""Stopping the webhook dispatcher is bounded: a run loop that does not end by itself (one
stuck on a database it cannot reach kept SIGTERM waiting forever) is cancelled after the
grace."""

from __future__ import annotations

import asyncio

from api.webhooks.dispatcher import WebhookDispatcher, WebhookSettings


async def test_a_stuck_run_loop_is_cancelled_after_the_grace() -> None:
    dispatcher = WebhookDispatcher(WebhookSettings(stop_grace=0.1), postgres=False, name="t")
    stuck = asyncio.Event()

    async def never_ends() -> None:
        while True:  # ignores the stop flag, as a loop retrying a dead database does
            await stuck.wait()

    task = asyncio.create_task(never_ends())
    dispatcher._task = task
    await asyncio.sleep(0)
    stopping = asyncio.create_task(dispatcher.stop())
    done, _ = await asyncio.wait({stopping}, timeout=3)  # (a hang detector, not a speed goal)
    assert done == {stopping}, "stop() still waits for a run loop that never ends"
    assert task.cancelled()
    assert dispatcher._task is None
