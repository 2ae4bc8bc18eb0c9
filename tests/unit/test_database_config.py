"""The Tortoise configuration built from a database URL."""

from api.store.database import keep_session, tortoise_config


def test_postgres_pool_releases_connections_without_a_reset_query() -> None:
    config = tortoise_config("postgres://shop:secret@db.internal:5433/shop?maxsize=7")
    connection = config["connections"]["default"]
    assert connection["engine"] == "tortoise.backends.asyncpg"
    credentials = connection["credentials"]
    assert credentials["reset"] is keep_session
    assert (credentials["host"], credentials["port"], credentials["database"]) == (
        "db.internal", 5433, "shop")
    assert credentials["maxsize"] == "7"


def test_sqlite_keeps_its_url() -> None:
    config = tortoise_config("sqlite://shop.sqlite3")
    assert config["connections"]["default"] == "sqlite://shop.sqlite3"
