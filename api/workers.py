"""How many server processes ``backorders serve`` runs on its one port, and whether these
settings let several work together (``api/server.py`` runs them)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from api.settings import Settings


class WorkersRefused(Exception):
    """More than one worker process was asked for where they could not share events."""


@dataclass(frozen=True)
class WorkerPlan:
    count: int
    notes: tuple[str, ...] = ()
    """For stderr: why the default was lowered to one, what counts per worker."""


def plan_workers(settings: Settings, asked: int | None, cores: int) -> WorkerPlan:
    """How many processes serve: ``asked`` (``--workers``), else ``BACKORDERS_WORKERS``,
    else the machine's cores in production and 1 in development. More than one where they
    could not share events is refused when asked for (``WorkersRefused``), and lowered to 1,
    with a note saying why, when it is the production default."""
    if asked is None:
        asked = settings.workers
    count = asked if asked is not None else (
        max(cores, 1) if settings.environment == "production" else 1)
    if count == 1:
        return WorkerPlan(1)
    why = unshared(settings)
    if why is not None and asked is not None:
        raise WorkersRefused(f"cannot serve with {count} workers: {why}")
    if why is not None:
        return WorkerPlan(1, (f"serving with 1 worker, not one per core ({count}): {why}",))
    return WorkerPlan(count, per_worker(settings, count))


def unshared(settings: Settings) -> str | None:
    """Why several server processes could not work together on these settings, or None.

    SQLite can take them: its file's lock serialises writers across processes (transactions
    take it when they begin, ``api/store/sqlite.py``), with WAL readers go on meanwhile, and
    the busy timeout makes a writer wait for the lock instead of failing at once."""
    if settings.broadcast_url.startswith("memory://"):
        return ("BACKORDERS_BROADCAST_URL is memory://, which cannot share live events "
                "across processes (use postgres://... or redis://..., or one worker)")
    if not settings.database_url.startswith("sqlite://"):
        return None
    from api.store.database import config_of  # Tortoise: only for SQLite's parameters

    sqlite = config_of(settings)["connections"]["default"]["credentials"]
    if sqlite["file_path"] == ":memory:":
        return "an in-memory SQLite database belongs to one process (use a file)"
    if str(sqlite["journal_mode"]).lower() != "wal":
        return (f"SQLite's journal mode {sqlite['journal_mode']} stops every reader while "
                "another process writes (use BACKORDERS_SQLITE_JOURNAL_MODE=wal)")
    if int(sqlite["busy_timeout"]) <= 0:
        return ("an SQLite busy timeout of 0 fails a write at once while another process "
                "writes (set BACKORDERS_SQLITE_BUSY_TIMEOUT_MS)")
    return None


def per_worker(settings: Settings, count: int) -> tuple[str, ...]:
    """What several workers serve as well as one, but count each for itself."""
    if not settings.rate_limit_storage.startswith("memory://"):
        return ()
    return (f"BACKORDERS_RATE_LIMIT_STORAGE is memory://, so each of the {count} workers "
            "counts the rate limits for itself (a client may send up to "
            f"{count} times as much; use redis://... to share the counters)",)


def machine_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
