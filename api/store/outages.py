"""Which failures are an outage of the database, and the log that tells one once.

A failure is an outage when the database cannot be reached or cannot take writes now, and
the same request could succeed later: PostgreSQL stopped, restarting or out of connections;
an SQLite file that is locked, read-only, full or unreadable. A constraint violation, bad
SQL or a missing table is not: it would fail again, and stays an unexpected error.

Tortoise wraps the drivers' exceptions (``OperationalError(sqlite3_error)``,
``raise OperationalError(exc) from exc`` for asyncpg, ``DBConnectionError``) and leaves
others as they are, so the classifier walks the exception's causes and arguments.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass

import asyncpg
from tortoise.exceptions import DBConnectionError

log = logging.getLogger("backorders.outages")

RETRY_AFTER_SECONDS = 5
"""What a client is told to wait (``Retry-After``) before it tries again."""

SQLITE_CODES = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL,
})
"""Primary result codes of a file that cannot be used now (extended codes share them)."""

POSTGRES_CLASSES = ("08", "53", "57P", "58", "25006")
"""SQLSTATE prefixes: connection exception, insufficient resources (disk, memory, too many
connections), shutdown or start-up, system (I/O) error, and a read-only transaction (a
standby, or a database set read-only)."""

CLOSED = ("connection is closed", "pool is closing", "pool is closed")
"""asyncpg's InterfaceError when a pooled connection died with the server."""

BROKEN = "cannot switch to state"
"""asyncpg's InternalClientError for a connection whose last operation the server cut off
(seen at the moment PostgreSQL stops). Our connections are used by one task at a time
(Tortoise's pool), so it is not two tasks sharing one."""


@dataclass(frozen=True)
class Outage:
    dependency: str
    reason: str


def outage_of(exc: BaseException) -> Outage | None:
    """The outage ``exc`` is a sign of, or None for any other failure."""
    for cause in _causes(exc):
        outage = _direct(cause)
        if outage is not None:
            return outage
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 10:
        current = todo.pop(0)
        if any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [c for c in (current.__cause__, current.__context__) if c is not None]
        todo += [a for a in current.args if isinstance(a, BaseException)]
    return seen


def _direct(exc: BaseException) -> Outage | None:
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return Outage("SQLite", reason) if code is not None and (
            code & 0xFF) in SQLITE_CODES else None
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        return Outage("PostgreSQL", reason) if state.startswith(POSTGRES_CLASSES) else None
    if isinstance(exc, asyncpg.InterfaceError) and any(c in str(exc) for c in CLOSED):
        return Outage("PostgreSQL", reason)
    if isinstance(exc, asyncpg.InternalClientError) and BROKEN in str(exc):
        return Outage("PostgreSQL", reason)
    if isinstance(exc, ConnectionError | TimeoutError):  # refused, reset, timed out
        return Outage("PostgreSQL", reason)
    if isinstance(exc, DBConnectionError):
        return Outage("database", reason)
    return None


class OutageLog:
    """One ERROR line when a dependency goes down, one WARNING when it is back; nothing for
    each request in between (they are counted by the request metrics)."""

    def __init__(self) -> None:
        self.down: dict[str, float] = {}

    def failed(self, outage: Outage) -> None:
        if outage.dependency in self.down:
            return
        self.down[outage.dependency] = time.monotonic()
        log.error("%s unavailable: %s; answering SERVICE_UNAVAILABLE until it recovers",
                  outage.dependency, outage.reason)

    def recovered(self) -> None:
        """A use of the database succeeded: whatever was down is back."""
        if not self.down:
            return
        now = time.monotonic()
        for dependency, since in sorted(self.down.items()):
            log.warning("%s available again after %.1f s", dependency, now - since)
        self.down.clear()


OUTAGES = OutageLog()
"""The process's log of outages: one database per process, shared by every request."""
