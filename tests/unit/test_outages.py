"""Which failures are an outage of the database (api/store/outages.py), and its log."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

from api.store.outages import OutageLog, outage_of


def _sqlite_error(path: Path, *statements: str, other: str | None = None) -> sqlite3.Error:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER UNIQUE)")
    holder.execute("INSERT OR IGNORE INTO t VALUES (1)")
    if other:
        holder.execute(other)
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        for statement in statements:
            connection.execute(statement)
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
        holder.close()
    raise AssertionError("no error")


def _wrapped(exc: Exception) -> Exception:
    """As Tortoise's SQLite client raises it: the driver's error as its argument."""
    try:
        try:
            raise exc
        except sqlite3.OperationalError as inner:
            raise OperationalError(inner)  # noqa: B904 (Tortoise's own way)
    except OperationalError as outer:
        return outer


def test_a_locked_sqlite_file_is_an_outage(tmp_path: Path) -> None:
    error = _sqlite_error(tmp_path / "db", "INSERT INTO t VALUES (2)", other="BEGIN IMMEDIATE")
    outage = outage_of(_wrapped(error))  # type: ignore[arg-type]
    assert outage is not None and outage.dependency == "SQLite"
    assert "locked" in outage.reason


def test_a_read_only_sqlite_file_is_an_outage(tmp_path: Path) -> None:
    error = _sqlite_error(tmp_path / "db", "PRAGMA query_only = ON", "INSERT INTO t VALUES (2)")
    assert outage_of(_wrapped(error)) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize("statement", ["SELECT * FROM nowhere", "SELEC 1",
                                       "INSERT INTO t VALUES (1)"])
def test_bad_sql_and_constraints_are_not_outages(tmp_path: Path, statement: str) -> None:
    error = _sqlite_error(tmp_path / "db", statement)
    assert outage_of(error) is None
    assert outage_of(IntegrityError(error)) is None


@pytest.mark.parametrize("exc", [
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.DiskFullError("could not extend file"),
    asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute UPDATE in a read-only"),
    asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
    asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in "
                                "progress"),
    ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
    DBConnectionError("Can't establish connection to database shop"),
])
def test_postgresql_connection_failures_are_outages(exc: Exception) -> None:
    try:
        raise OperationalError(exc) from exc
    except OperationalError as wrapped:
        assert outage_of(wrapped) is not None
    assert outage_of(exc) is not None


@pytest.mark.parametrize("exc", [
    asyncpg.exceptions.UniqueViolationError("duplicate key value"),
    asyncpg.exceptions.PostgresSyntaxError("syntax error at or near"),
    asyncpg.exceptions.UndefinedTableError('relation "x" does not exist'),
    asyncpg.exceptions.LockNotAvailableError("could not obtain lock"),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    ValueError("a bug"),
])
def test_other_failures_are_not_outages(exc: Exception) -> None:
    assert outage_of(exc) is None


def test_an_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    outages = OutageLog()
    error = ConnectionRefusedError(111, "Connect call failed")
    caplog.set_level(logging.INFO, "backorders.outages")
    for _ in range(3):
        outage = outage_of(error)
        assert outage is not None
        outages.failed(outage)
    outages.recovered()
    outages.recovered()
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records] == [
        ("ERROR", "PostgreSQL unavailable"), ("WARNING", "PostgreSQL available again after 0.0 s")]
