"""A change to many back orders writes every history line, outbox event and message once.

On PostgreSQL these rows are written with one statement per table over arrays, so a queue
longer than the 32,767 bind parameters of one statement must still come out whole.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tortoise.connection import get_connection

from api.domain.identity import Actor, Role
from api.services import catalog, ordering, queue, restocks
from api.store import statements
from api.store.models import (
    BackOrder,
    BackOrderEvent,
    Notification,
    NotificationPreferences,
    OutboxEvent,
)
from bench.suite import bulk_queue

STAFF = Actor("staff-1", Role.STAFF)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
LONG_QUEUE = 7_000
"""Two history lines of five values each per back order: 70,000 values in one table."""


async def test_rows_given_as_values_get_their_defaults_and_shared_values(db: str) -> None:
    rows = [("back_order", str(n), {"id": n, "tag": f"t{n}"}) for n in range(1, 4)]
    await statements.insert_values(OutboxEvent, ("topic", "key", "payload"), rows)
    await statements.insert_values(
        Notification, ("customer_id", "event", "channel", "address", "data"),
        [("c1", "PLACED", "EMAIL", "c1@example.com", {"n": 1}),
         ("c2", "PLACED", "SMS", "+100", {"n": 2})],
        {"due_at": NOW, "created_at": NOW})
    events = await OutboxEvent.all().order_by("id")
    assert [(e.key, e.payload) for e in events] == [(k, p) for _, k, p in rows]
    assert all(e.created_at is not None and e.published_at is None for e in events)
    messages = await Notification.all().order_by("id")
    assert [(m.customer_id, m.channel, m.data, m.status.value, m.attempts, m.due_at)
            for m in messages] == [("c1", "EMAIL", {"n": 1}, "PENDING", 0, NOW),
                                   ("c2", "SMS", {"n": 2}, "PENDING", 0, NOW)]
    assert all(m.updated_at is not None and m.back_order_id is None for m in messages)


async def test_a_restock_serving_a_queue_writes_each_line_once(db: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    for n in range(12):
        if n % 3:
            await NotificationPreferences.create(
                customer_id=f"c{n}", email=f"c{n}@example.com", channels=["EMAIL"])
        await ordering.place_order(Actor(f"c{n}", Role.CUSTOMER),
                                   [ordering.LineRequest("KB", 1 + n % 2)], f"k{n}", "USD",
                                   now=NOW + timedelta(seconds=n))
    restock = await restocks.schedule_restock(STAFF, "KB", 100, NOW.date() + timedelta(days=3),
                                              now=NOW)
    await restocks.receive_restock(STAFF, restock.id, now=NOW + timedelta(minutes=1))
    for bo in await BackOrder.all():
        assert bo.status.value == "ALLOCATED"
        history = await BackOrderEvent.filter(back_order_id=bo.id).order_by("id")
        assert [e.kind for e in history][-2:] == ["ALLOCATED", "DATE_CHANGED"]
        assert {e.version for e in history[-2:]} == {bo.version}
        assert history[-2].detail == {"units": bo.quantity, "allocated": bo.quantity}
        events = await OutboxEvent.filter(topic="back_order", key=str(bo.id))
        assert [e.payload["status"] for e in events
                if e.payload["version"] == bo.version] == ["ALLOCATED"]
        messages = await Notification.filter(back_order_id=bo.id, event="ALLOCATED")
        customer = int(bo.customer_id[1:])
        assert [(m.address, m.data["back_order_id"]) for m in messages] == (
            [(f"{bo.customer_id}@example.com", bo.id)] if customer % 3 else [])


async def test_a_restock_serving_more_back_orders_than_bind_parameters(db: str) -> None:
    if not db.startswith("postgres"):
        pytest.skip("the bind parameter limit is PostgreSQL's")
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    await bulk_queue(db, "KB", LONG_QUEUE)
    connection = get_connection("default")
    await connection.execute_query(
        "INSERT INTO notification_preferences (customer_id, email, channels, events,"
        " opted_out, updated_at) SELECT customer_id, customer_id || '@example.com',"
        " '[\"EMAIL\"]', '[]', false, now() FROM back_order")
    restock = await restocks.schedule_restock(
        STAFF, "KB", LONG_QUEUE, datetime.now(UTC).date() + timedelta(days=2))
    await restocks.receive_restock(STAFF, restock.id)

    async def one(sql: str) -> tuple[int, ...]:
        _, rows = await connection.execute_query(sql)
        return tuple(rows[0])

    assert await one("SELECT count(*), count(*) FILTER (WHERE status = 'ALLOCATED'),"
                     " count(*) FILTER (WHERE version = 3) FROM back_order") == (
        LONG_QUEUE, LONG_QUEUE, LONG_QUEUE)
    assert await one("SELECT count(*), count(DISTINCT e.back_order_id),"
                     " count(*) FILTER (WHERE e.version = b.version AND e.status = b.status"
                     " AND e.detail = '{\"units\": 1, \"allocated\": 1}')"
                     " FROM back_order_event e JOIN back_order b ON b.id = e.back_order_id"
                     " WHERE e.kind = 'ALLOCATED'") == (LONG_QUEUE, LONG_QUEUE, LONG_QUEUE)
    assert await one("SELECT count(*), count(DISTINCT key), count(*) FILTER (WHERE"
                     " payload->>'id' = key AND payload->>'status' = 'ALLOCATED')"
                     " FROM outbox_event WHERE topic = 'back_order'"
                     " AND (payload->>'version')::int = 3") == (
        LONG_QUEUE, LONG_QUEUE, LONG_QUEUE)
    assert await one("SELECT count(*), count(DISTINCT n.back_order_id), count(*) FILTER"
                     " (WHERE (n.data->>'back_order_id')::int = b.id"
                     " AND n.address = b.customer_id || '@example.com')"
                     " FROM notification n JOIN back_order b ON b.id = n.back_order_id"
                     " WHERE n.event = 'ALLOCATED'") == (LONG_QUEUE, LONG_QUEUE, LONG_QUEUE)


async def test_the_queue_is_read_as_the_rows_tortoise_makes(db: str) -> None:
    await catalog.create_product(STAFF, "KB", "Keyboard", Decimal("10.00"))
    for n in range(3):
        await ordering.place_order(Actor(f"c{n}", Role.CUSTOMER),
                                   [ordering.LineRequest("KB", 2)], f"k{n}", "USD",
                                   now=NOW + timedelta(seconds=n))
    restock = await restocks.schedule_restock(STAFF, "KB", 9, NOW.date() + timedelta(days=3),
                                              now=NOW)
    await restocks.receive_restock(STAFF, restock.id, quantity=3, now=NOW)
    product_id = (await BackOrder.first()).product_id  # type: ignore[union-attr]
    read = await queue.queued_back_orders(product_id)
    expected = await BackOrder.filter(product_id=product_id).order_by("-priority", "placed_at",
                                                                     "id").offset(1)
    assert [bo.status.value for bo in read] == ["PARTIALLY_ALLOCATED", "WAITING"]
    assert [vars(bo) for bo in read] == [vars(bo) for bo in expected]
