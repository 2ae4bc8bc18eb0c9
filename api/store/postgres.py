"""Tortoise's asyncpg client, whose transaction gives its connection back when it cannot
begin.

Tortoise's pooled transaction context takes a connection from the pool, then begins; when
the begin fails (PostgreSQL stopped under it, or the connection broke) its ``__aexit__``
never runs, so the connection is never released and the task keeps the dead transaction as
its current connection: the pool shrinks with each failure and the task's next
transactions fail with "connection has been released back to the pool" after PostgreSQL is
back. This context releases and resets on a failed begin. Named as the engine in
``database.tortoise_config``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError

from api import tracing
from api.store.traced import TracedStatements, TracedTransaction


class ReleasingTransactionContext(TransactionContextPooled):
    async def __aenter__(self) -> TransactionalDBClient:
        await self.ensure_connection()
        pool = self.client._parent._pool
        self.client._connection = await pool.acquire()
        self.token = get_connections().set(self.connection_name, self.client)
        try:
            await self.client.begin()
        except BaseException:
            get_connections().reset(self.token)
            with contextlib.suppress(Exception):  # the begin's error is the one to raise
                await pool.release(self.client._connection)
            raise
        return self.client


class ReleasingAsyncpgClient(AsyncpgDBClient):
    def _in_transaction(self) -> TransactionContext:
        return ReleasingTransactionContext(TransactionWrapper(self), self._pool_init_lock)

    async def execute_query(self, query: str, values: list[Any] | None = None
                            ) -> tuple[int, list[Any]]:
        """A read outside a transaction straight from the pool (``Pool.fetch``), with the
        errors Tortoise's ``execute_query`` gives: the same rows without its two wrapper
        coroutines, its connection wrapper and an upper-cased copy of the statement (about
        a twelfth of a simple request's time). Writes, and a client without its pool yet,
        take Tortoise's way."""
        pool = self._pool
        if pool is None or not query.startswith("SELECT"):
            return await super().execute_query(query, values)  # type: ignore[no-any-return]
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s: %s", query, values)
        try:
            rows = await pool.fetch(query, *values) if values else await pool.fetch(query)
        except (asyncpg.SyntaxOrAccessError, asyncpg.exceptions.DataError) as exc:
            raise OperationalError(exc) from exc
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(exc) from exc
        except asyncpg.InvalidTransactionStateError as exc:
            raise TransactionManagementError(exc) from exc
        return len(rows), rows


class TracedTransactionWrapper(TracedTransaction, TransactionWrapper):
    db_system = "postgresql"

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(TracedTransactionWrapper(self))


class TracedAsyncpgClient(TracedStatements, ReleasingAsyncpgClient):
    db_system = "postgresql"

    def _in_transaction(self) -> TransactionContext:
        return ReleasingTransactionContext(TracedTransactionWrapper(self), self._pool_init_lock)


client_class: Any = ReleasingAsyncpgClient


def get_client_class(db_info: dict[str, Any]) -> Any:
    """What Tortoise connects with: the traced client while tracing is on."""
    return TracedAsyncpgClient if tracing.TRACER is not None else ReleasingAsyncpgClient
