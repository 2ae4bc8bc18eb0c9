"""An existing database upgrades: data written under the first migration survives the rest."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.backends.base import executor
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as tortoise_migrate

from api.domain.model import Shipping
from api.store.database import migrate, tortoise_config
from api.store.models import BackOrder, NotificationPreferences, Order, Product
from tests.pgserver import PostgresServer

_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'old.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"upgrade_{next(_names)}")


async def _migrated_to(url: str, target: str) -> dict[str, Any]:
    """The database at ``url`` migrated up to ``target`` only; its ORM config."""
    executor.EXECUTOR_CACHE.clear()
    config = tortoise_config(url)
    await tortoise_migrate(config=config, target=f"models.{target}")
    await Tortoise.close_connections()
    return config


async def test_a_database_at_the_first_migration_upgrades(empty_database: str) -> None:
    config = await _migrated_to(empty_database, "0001_initial")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await get_connection("default").execute_script(
            "INSERT INTO product (sku, name, digital, price, discontinued, on_hand, allocated,"
            " waiting, allow_backorders, lead_time_days, handling_days, delay_grace_days,"
            " low_stock_threshold, version, created_at, updated_at) VALUES ('OLD-1', 'Old',"
            " false, 5, false, 7, 0, 0, true, 14, 1, 2, 5, 1, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)"
        )
        # An order with a back order: every column added to their tables since must fill.
        await get_connection("default").execute_script(
            "INSERT INTO customer_order (customer_id, idempotency_key, request_hash, currency,"
            " amount_charged, amount_refunded, placed_at) VALUES ('alice', 'k1', 'h', 'USD',"
            " 10, 0, CURRENT_TIMESTAMP);"
            " INSERT INTO order_line (order_id, product_id, quantity, unit_price,"
            " amount_charged, allocated_now, backordered) VALUES (1, 1, 2, 5, 10, 0, 2);"
            " INSERT INTO back_order (order_id, line_id, product_id, customer_id, quantity,"
            " allocated, status, priority, placed_at, unit_price, queue_position, units_ahead,"
            " estimated_ship_date, estimate_scheduled, promised_date, delayed, refunded_amount,"
            " version, updated_at) VALUES (1, 1, 1, 'alice', 2, 0, 'WAITING', 0,"
            " CURRENT_TIMESTAMP, 5, 1, 0, CURRENT_DATE, false, CURRENT_DATE, false, 0, 1,"
            " CURRENT_TIMESTAMP)"
        )

    await migrate(empty_database)

    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        old = await Product.get(sku="OLD-1")
        assert (old.on_hand, old.held) == (7, 0)
        order = await Order.get(idempotency_key="k1")
        assert (order.amount_credited, order.shipping) == (0, Shipping.SHIP_AS_ALLOCATED)
        back_order = await BackOrder.get(order_id=order.id)
        assert (back_order.quantity, back_order.shipped, back_order.compensated_amount) == (
            2, 0, 0)
        assert await NotificationPreferences.all().count() == 0


async def test_postgresql_gets_the_demand_report_statistics(postgres: PostgresServer) -> None:
    url = postgres.create_database(f"upgrade_{next(_names)}")
    await migrate(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        _, rows = await get_connection("default").execute_query(
            "SELECT stxname FROM pg_statistic_ext ORDER BY stxname")
    assert [r["stxname"] for r in rows] == [
        f"{table}_placed_{unit}" for table in ("back_order", "customer_order")
        for unit in ("day", "month", "week")]


async def test_pre_orders_of_before_0021_are_marked_and_past_releases_stay_released(
        empty_database: str) -> None:
    config = await _migrated_to(empty_database, "0020_demand_statistics")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        db = get_connection("default")
        # A product released last month and one released next month, each with a back
        # order placed before its release date and one placed after it (of the first).
        for sku, release in (("PAST", "CURRENT_DATE - 30"), ("NEXT", "CURRENT_DATE + 30")):
            release_sql = release if "postgres" in empty_database else (
                f"DATE('now', '{release.split(' ', 1)[1].replace(' ', '')} days')")
            await db.execute_script(
                "INSERT INTO product (sku, name, digital, price, discontinued, on_hand,"
                " allocated, waiting, held, allow_backorders, lead_time_days, handling_days,"
                " release_date, delay_grace_days, low_stock_threshold, version, created_at,"
                f" updated_at) VALUES ('{sku}', 'P', false, 5, false, 0, 0, 1, 0, true, 14,"
                f" 1, {release_sql}, 2, 5, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        placed = {"PAST": ("2026-01-01 00:00:00+00:00", "2099-01-01 00:00:00+00:00"),
                  "NEXT": ("2026-01-01 00:00:00+00:00",)}
        n = 0
        for product_id, sku in ((1, "PAST"), (2, "NEXT")):
            for at in placed[sku]:
                n += 1
                await db.execute_script(
                    "INSERT INTO customer_order (customer_id, idempotency_key, request_hash,"
                    " currency, amount_charged, amount_refunded, amount_credited, placed_at,"
                    f" shipping) VALUES ('alice', 'k{n}', 'h', 'USD', 5, 0, 0, '{at}',"
                    " 'SHIP_AS_ALLOCATED');"
                    " INSERT INTO order_line (order_id, product_id, quantity, unit_price,"
                    f" amount_charged, allocated_now, backordered) VALUES ({n}, {product_id},"
                    " 1, 5, 5, 0, 1);"
                    " INSERT INTO back_order (order_id, line_id, product_id, customer_id,"
                    " quantity, allocated, shipped, status, priority, placed_at, unit_price,"
                    " queue_position, units_ahead, estimated_ship_date, estimate_scheduled,"
                    " promised_date, delayed, refunded_amount, compensated_amount, version,"
                    f" updated_at) VALUES ({n}, {n}, {product_id}, 'alice', 1, 0, 0,"
                    f" 'WAITING', 0, '{at}', 5, 1, 0, CURRENT_DATE, false, CURRENT_DATE,"
                    " false, 0, 0, 1, CURRENT_TIMESTAMP)")

    await migrate(empty_database)

    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        past, upcoming = await Product.get(sku="PAST"), await Product.get(sku="NEXT")
        assert past.released_at is not None
        assert past.released_at.date() == past.release_date
        assert upcoming.released_at is None
        marks = [bo.pre_order for bo in await BackOrder.all().order_by("id")]
        assert marks == [True, False, True]
