"""The outbox relay publishes committed events in order, each payload as it was stored."""

from __future__ import annotations

from api.realtime.bus import EventBus
from api.realtime.events import Event
from api.realtime.hub import Hub
from api.realtime.relay import OutboxRelay
from api.store import models
from api.store.database import is_postgres

PAYLOADS = [
    {"id": 7, "version": n, "customer_id": "alice", "product_id": 3,
     "note": "Ünïcode, \"quotes\" and \\ slashes", "lines": [{"sku": "KB", "quantity": n}]}
    for n in range(1, 41)
]


async def test_events_go_out_in_order_with_their_payloads_and_once(db: str) -> None:
    hub = Hub(queue_size=1_000)
    bus = EventBus("memory://", hub)
    await bus.start()
    relay = OutboxRelay(bus, postgres=is_postgres(db), batch=16)  # several batches
    try:
        for payload in PAYLOADS:
            await models.OutboxEvent.create(topic="back_order", key="7", payload=payload)
        with hub.subscribe(["bo:7"]) as subscription:
            assert await relay.drain() == len(PAYLOADS)
            assert await relay.drain() == 0  # published once
            received = [await subscription.get() for _ in PAYLOADS]
            assert subscription.pending == 0
    finally:
        await bus.stop()
    assert received == [Event("back_order", "7", payload) for payload in PAYLOADS]
    assert not await models.OutboxEvent.filter(published_at__isnull=True).exists()
