"""The Tortoise configuration built from a database URL."""

from api.store.database import keep_session, tortoise_config


def test_postgres_pool_releases_connections_without_a_reset_query() -> None:
    config = tortoise_config("postgres://shop:secret@db.internal:5433/shop?maxsize=7")
    connection = config["connections"]["default"]
    assert connection["engine"] == "api.store.postgres"
    credentials = connection["credentials"]
    assert credentials["reset"] is keep_session
    assert (credentials["host"], credentials["port"], credentials["database"]) == (
        "db.internal", 5433, "shop")
    assert credentials["maxsize"] == "7"


def test_sqlite_uses_wal_a_busy_timeout_and_immediate_transactions() -> None:
    config = tortoise_config("sqlite://shop.sqlite3", busy_timeout_ms=1234)
    connection = config["connections"]["default"]
    assert connection["engine"] == "api.store.sqlite"
    credentials = connection["credentials"]
    assert (credentials["file_path"], credentials["journal_mode"],
            credentials["busy_timeout"]) == ("shop.sqlite3", "WAL", 1234)


def test_the_sqlite_url_wins_over_the_settings() -> None:
    config = tortoise_config("sqlite://shop.sqlite3?busy_timeout=9&journal_mode=delete")
    credentials = config["connections"]["default"]["credentials"]
    assert (credentials["busy_timeout"], credentials["journal_mode"]) == ("9", "delete")
