"""Ending background tasks for sure: cancel, and cancel again each ``retry`` seconds until
they end. A cancel can be lost under us (3.11's ``asyncio.wait_for`` drops one that races a
result, inside asyncpg, broadcaster or redis); a loop that then goes on would keep shutdown
waiting forever."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

RETRY_SECONDS = 1.0


async def cancel_until_done(tasks: Iterable[asyncio.Task[None]],
                            retry: float | None = None) -> None:
    """Cancel ``tasks`` until every one has ended; their outcomes are retrieved, not raised
    (a task that failed has said so in its own log)."""
    every = list(tasks)
    pending = set(every)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RETRY_SECONDS if retry is None
                                        else retry)
    for task in every:
        if not task.cancelled():
            task.exception()
