"""Keeps this instance's copy of the token revocations current: read at start, then again
every ``BACKORDERS_REVOCATION_POLL_SECONDS``, so a revocation made on another instance
reaches this one within that time (the instance that made it knows at once)."""

from __future__ import annotations

import asyncio
import logging

from api.domain.revocation import Revocations
from api.realtime.stopping import cancel_until_done
from api.services.revocations import all_revocations

log = logging.getLogger("backorders.auth")


class RevocationPoller:
    def __init__(self, revocations: Revocations, seconds: float) -> None:
        self.revocations = revocations
        self.seconds = seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The first read happens before the server takes requests: a restarted instance
        must not accept a token revoked while it was down."""
        await self._read()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_until_done([self._task])

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            await self._read()

    async def _read(self) -> None:
        try:
            self.revocations.update(await all_revocations())
        except Exception as exc:  # the database is out: keep what we know, read again
            log.warning("token revocations not read: %s: %s", type(exc).__name__, exc)
