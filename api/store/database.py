"""The Tortoise configuration, migrations and transactions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.exceptions import OperationalError
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.transactions import in_transaction

from api.settings import Settings

MODELS_MODULE = "api.store.models"
MIGRATIONS_MODULE = "api.store.migrations"


async def keep_session(connection: Any) -> None:
    """What a pooled PostgreSQL connection runs when it goes back to the pool: nothing.

    asyncpg's default sends ``RESET ALL; UNLISTEN *; pg_advisory_unlock_all() ...`` on every
    release, a round trip per statement outside a transaction (a third of a simple read).
    This code leaves no session state on pooled connections: no SET, no LISTEN (the event
    bus has its own connection), no session advisory locks (the relay's lock is
    transaction-scoped), no cursors outside transactions. Keep it that way, or drop this.
    """


SQLITE_ENGINE = "api.store.sqlite"
POSTGRES_ENGINE = "api.store.postgres"
DEFAULTS = Settings.model_fields


def tortoise_config(
    database_url: str,
    busy_timeout_ms: int = DEFAULTS["sqlite_busy_timeout_ms"].default,
    journal_mode: str = DEFAULTS["sqlite_journal_mode"].default,
) -> dict[str, Any]:
    """The configuration for ``database_url``; for SQLite, the file's journal mode and busy
    timeout (pragmas; the URL's own ``?busy_timeout=`` or ``?journal_mode=`` win) and
    transactions that take the write lock when they begin (``api/store/sqlite.py``); for
    PostgreSQL, transactions that give their connection back when they cannot begin
    (``api/store/postgres.py``)."""
    connection: str | dict[str, Any] = database_url
    if is_postgres(database_url):
        expanded = expand_db_url(database_url)
        if expanded["engine"] == "tortoise.backends.asyncpg":
            expanded["credentials"]["reset"] = keep_session
            expanded["engine"] = POSTGRES_ENGINE
            connection = expanded
    elif database_url.startswith("sqlite://"):
        expanded = expand_db_url(database_url)
        credentials = expanded["credentials"]
        if "journal_mode=" not in database_url:
            credentials["journal_mode"] = journal_mode.upper()
        credentials.setdefault("busy_timeout", busy_timeout_ms)
        connection = {"engine": SQLITE_ENGINE, "credentials": credentials}
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://", "psycopg://"))


def config_of(settings: Settings) -> dict[str, Any]:
    return tortoise_config(settings.database_url, settings.sqlite_busy_timeout_ms,
                           settings.sqlite_journal_mode)


async def migrate(database_url: str) -> None:
    """Apply every migration that the database lacks, then close the connections."""
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


def known_migrations() -> set[str]:
    """The migrations this code ships (file names without ``.py``)."""
    folder = Path(__file__).parent / "migrations"
    return {p.stem for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py")}


async def missing_migrations() -> set[str]:
    """Migrations of this code that the connected database has not applied."""
    connection = get_connection("default")
    await connection.execute_query("SELECT 1")  # unreachable: raise, not "missing"
    try:
        rows = await connection.execute_query_dict(
            "SELECT name FROM tortoise_migrations WHERE app = 'models'")
    except OperationalError:  # never migrated: the table is not there yet
        return known_migrations()
    return known_migrations() - {row["name"] for row in rows}


class RolledBack(Exception):
    """Ends the readiness check's transaction without a commit."""


async def check_writes() -> None:
    """Raise unless the database takes a write now: in a transaction rolled back, an UPDATE
    that matches no row (on SQLite it takes the file's write lock, so a locked or read-only
    file fails here; on PostgreSQL a read-only server or a standby does)."""
    try:
        async with in_transaction("default") as connection:
            await connection.execute_query(
                "UPDATE tortoise_migrations SET app = app WHERE 1 = 0")
            raise RolledBack
    except RolledBack:
        return


# For the ``tortoise`` command line (makemigrations): see [tool.tortoise] in pyproject.toml.
TORTOISE_ORM = tortoise_config(
    os.environ.get("BACKORDERS_DATABASE_URL", "sqlite://backorders.sqlite3")
)
