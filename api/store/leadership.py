"""One holder per database at a time, for work that must happen once per deployment.

On PostgreSQL the holder keeps a session advisory lock on a connection of its own (not the
pool's: pooled connections leave no session state, see ``database.keep_session``); the lock
goes with the connection, so a holder that stops, crashes or loses the database frees it
for the next one that asks. On SQLite the holder keeps an exclusive lock on a file beside
the database (``PATH.leader``), which the kernel drops with the process. An in-memory SQLite
database belongs to one process: that process holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from api.store.database import is_postgres

log = logging.getLogger("backorders.store")

METRICS_LOCK = 7_204_316_002
"""The advisory lock of the instance that exports the database-derived gauges."""


class Leadership:
    def __init__(self, database_url: str, key: int = METRICS_LOCK) -> None:
        self.database_url = database_url
        self.key = key
        self._connection: Any = None
        self._file: int | None = None
        self._asking = asyncio.Lock()  # two scrapes at once open one connection, not two

    async def held(self) -> bool:
        """Whether this process holds it now, taking it if it is free."""
        if not is_postgres(self.database_url):
            return self._held_on_file()
        async with self._asking:
            return await self._held_on_postgres()

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None
        if self._file is not None:
            os.close(self._file)  # closing the file drops its lock
            self._file = None

    async def _held_on_postgres(self) -> bool:
        try:
            if self._connection is not None and not self._connection.is_closed():
                await self._connection.fetchval("SELECT 1")  # the session, and so the lock
                return True
            await self.release()
            self._connection = await asyncpg.connect(**_credentials(self.database_url),
                                                     timeout=5)
            if await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
                log.info("this instance now exports the database gauges")
                return True
        except (OSError, asyncpg.PostgresError, TimeoutError):
            pass  # not reachable now: not the holder; asked again next time
        await self.release()
        return False

    def _held_on_file(self) -> bool:
        path = self.database_url.removeprefix("sqlite://").split("?", 1)[0]
        if path in ("", ":memory:"):
            return True
        if self._file is None:
            descriptor = os.open(f"{path}.leader", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                return False
            self._file = descriptor
        return True


def _credentials(database_url: str) -> dict[str, Any]:
    """asyncpg's connect arguments for a Tortoise PostgreSQL URL (its pool options dropped)."""
    credentials = expand_db_url(database_url)["credentials"]
    return {key: credentials[key] for key in ("host", "port", "user", "password", "database")
            if credentials.get(key) is not None}
