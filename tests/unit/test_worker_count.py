"""How many processes ``backorders serve`` runs, and when it refuses several."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api import cli
from api.settings import MAX_WORKERS, Settings
from api.workers import WorkersRefused, plan_workers

PG = "postgres://shop@db:5432/shop"
REDIS = "redis://cache:6379/0"


def _settings(**values: Any) -> Settings:
    return Settings(**{"database_url": PG, "broadcast_url": PG, **values})


def test_development_serves_with_one_worker_whatever_the_cores() -> None:
    assert plan_workers(_settings(), None, cores=8).count == 1


def test_production_serves_with_one_worker_per_core() -> None:
    plan = plan_workers(_settings(environment="production", jwt_secret="s" * 32), None, 8)
    assert plan.count == 8


def test_the_flag_wins_over_the_setting_which_wins_over_the_default() -> None:
    production = {"environment": "production", "jwt_secret": "s" * 32}
    assert plan_workers(_settings(workers=3, **production), None, 8).count == 3
    assert plan_workers(_settings(workers=3, **production), 2, 8).count == 2
    assert plan_workers(_settings(), 4, 1).count == 4  # more than the cores, if asked


@pytest.mark.parametrize("asked", [(2, None), (None, 2)], ids=["--workers", "setting"])
def test_several_workers_asked_for_with_memory_broadcast_are_refused(
    asked: tuple[int | None, int | None]
) -> None:
    flag, setting = asked
    with pytest.raises(WorkersRefused, match="cannot serve with 2 workers: "
                       "BACKORDERS_BROADCAST_URL is memory://"):
        plan_workers(_settings(broadcast_url="memory://", workers=setting), flag, 8)


def test_one_worker_with_memory_broadcast_is_fine() -> None:
    assert plan_workers(_settings(broadcast_url="memory://"), 1, 8).count == 1


def test_the_production_default_falls_back_to_one_with_memory_broadcast_and_says_why() -> None:
    settings = _settings(broadcast_url="memory://", environment="production",
                         jwt_secret="s" * 32)
    plan = plan_workers(settings, None, 4)
    assert plan.count == 1
    [note] = plan.notes
    assert note.startswith("serving with 1 worker, not one per core (4): ")
    assert "memory://" in note


@pytest.mark.parametrize(("database", "named"), [
    ("sqlite://:memory:", "in-memory SQLite"),
    ("sqlite://shop.sqlite3?journal_mode=delete", "journal mode delete"),
    ("sqlite://shop.sqlite3?busy_timeout=0", "busy timeout of 0"),
])
def test_sqlite_that_one_process_would_hold_is_refused(database: str, named: str) -> None:
    with pytest.raises(WorkersRefused, match=named):
        plan_workers(_settings(database_url=database, broadcast_url=REDIS), 2, 8)


def test_sqlite_with_wal_and_a_busy_timeout_takes_several_workers() -> None:
    settings = _settings(database_url="sqlite://shop.sqlite3", broadcast_url=REDIS)
    assert plan_workers(settings, 2, 8).count == 2


def test_memory_rate_limits_are_named_as_counted_per_worker() -> None:
    [note] = plan_workers(_settings(), 3, 8).notes
    assert "BACKORDERS_RATE_LIMIT_STORAGE is memory://" in note and "3 times" in note
    assert plan_workers(_settings(rate_limit_storage=REDIS), 3, 8).notes == ()


@pytest.mark.parametrize("text", ["0", "-1", "two", "2.5", "", str(MAX_WORKERS + 1)])
def test_a_workers_flag_that_is_no_count_is_refused_by_the_parser(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli._parser().parse_args(["serve", "--workers", text])
    assert stopped.value.code == 2
    assert "is not a number of processes" in capsys.readouterr().err


def test_a_workers_setting_that_is_no_count_is_refused() -> None:
    for value in (0, MAX_WORKERS + 1):
        with pytest.raises(ValidationError, match="workers"):
            _settings(workers=value)


def test_serve_refuses_before_it_migrates(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "shop.sqlite3"
    settings = _settings(database_url=f"sqlite://{database}", broadcast_url="memory://")
    args = cli._parser().parse_args(["serve", "--workers", "2"])
    assert args.run(args, settings) == 2
    assert capsys.readouterr().err == (
        "backorders: cannot serve with 2 workers: BACKORDERS_BROADCAST_URL is memory://, "
        "which cannot share live events across processes (use postgres://... or "
        "redis://..., or one worker)\n")
    assert not database.exists()
