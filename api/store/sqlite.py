"""Tortoise's SQLite client, whose transactions take the file's write lock when they begin.

Tortoise begins a transaction with a plain (deferred) ``BEGIN``: the lock is taken at the
first write, and in WAL mode a transaction that read before another process (a
``backorders worker``) committed cannot take it at all: SQLite fails it at once with
"database is locked" (SQLITE_BUSY_SNAPSHOT), whatever the busy timeout. ``BEGIN
IMMEDIATE`` waits for the lock up to the busy timeout instead. It also releases the
client's lock when the begin fails (Tortoise's context would keep it, and every later query
of the process would wait for ever). Named as the engine in ``database.tortoise_config``;
while tracing is on, Tortoise gets the traced client (``api/store/traced.py``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError

from api import tracing
from api.store.traced import TracedStatements, TracedTransaction


class ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc


class ImmediateTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection  # type: ignore[no-any-return]


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return ImmediateTransactionContext(ImmediateTransaction(self), self._lock)


class TracedImmediateTransaction(TracedTransaction, ImmediateTransaction):
    db_system = "sqlite"

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(TracedImmediateTransaction(self))


class TracedSqliteClient(TracedStatements, ImmediateSqliteClient):
    db_system = "sqlite"

    def _in_transaction(self) -> TransactionContext:
        return ImmediateTransactionContext(TracedImmediateTransaction(self), self._lock)


client_class: Any = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> Any:
    """What Tortoise connects with: the traced client while tracing is on."""
    return TracedSqliteClient if tracing.TRACER is not None else ImmediateSqliteClient
