"""An event that can never be published is set aside (logged, counted, marked) and the events
after it still go out in order; a broker that refuses everything sets nothing aside."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from api.realtime.bus import HEARTBEAT, EventBus
from api.realtime.events import MAX_MESSAGE_BYTES, Event
from api.realtime.hub import Hub
from api.realtime.relay import BrokerUnavailable, OutboxRelay
from api.store.database import is_postgres
from api.store.models import OutboxEvent

POISON = "poison-pill"


class FussyBus(EventBus):
    """The in-memory bus, refusing the messages ``refuses`` picks (a fake broker)."""

    def __init__(self, hub: Hub, refuses: Callable[[str], bool]) -> None:
        super().__init__("memory://", hub)
        self.refuses = refuses

    async def publish(self, message: str) -> None:
        if self.refuses(message):
            raise RuntimeError("the broker refused the message")
        await super().publish(message)


def _payload(n: int, note: str = "") -> dict[str, object]:
    return {"id": 7, "version": n, "customer_id": "alice", "product_id": 3, "note": note}


def _set_aside(reason: str) -> float:
    return REGISTRY.get_sample_value("backorders_events_set_aside_total",
                                     {"reason": reason}) or 0.0


async def _stored(notes: dict[int, str]) -> list[OutboxEvent]:
    """Ten events of back order 7 (versions 1..10), a note on some."""
    return [await OutboxEvent.create(topic="back_order", key="7",
                                     payload=_payload(n, notes.get(n, "")))
            for n in range(1, 11)]


async def _publish(db: str, bus: EventBus, hub: Hub, expected: int) -> list[Event]:
    relay = OutboxRelay(bus, postgres=is_postgres(db), batch=4)  # several batches
    await bus.start()
    try:
        with hub.subscribe(["bo:7"]) as subscription:
            assert await relay.drain() == expected
            assert await relay.drain() == 0  # nothing is retried
            received = [await subscription.get() for _ in range(expected)]
            assert subscription.pending == 0
    finally:
        await bus.stop()
    return [event for event in received if isinstance(event, Event)]


async def test_an_event_too_large_for_a_message_is_set_aside_and_the_rest_go_out(
        db: str, caplog: pytest.LogCaptureFixture) -> None:
    events = await _stored({3: "x" * MAX_MESSAGE_BYTES})
    before = _set_aside("too_large")
    hub = Hub(queue_size=100)
    with caplog.at_level(logging.ERROR, "backorders.realtime"):
        received = await _publish(db, EventBus("memory://", hub), hub, expected=9)
    assert [event.version for event in received] == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    assert _set_aside("too_large") == before + 1
    assert f"outbox event {events[2].id} set aside" in caplog.text
    poison = await OutboxEvent.get(id=events[2].id)
    assert poison.published_at is not None and poison.set_aside is not None
    assert poison.set_aside.startswith("too_large")
    assert await OutboxEvent.filter(set_aside__isnull=False).count() == 1
    assert not await OutboxEvent.filter(published_at__isnull=True).exists()


async def test_an_event_the_broker_refuses_alone_is_set_aside_and_the_rest_go_out(
        db: str) -> None:
    events = await _stored({5: POISON, 8: POISON})
    before = _set_aside("refused")
    hub = Hub(queue_size=100)
    bus = FussyBus(hub, refuses=lambda message: POISON in message)
    received = await _publish(db, bus, hub, expected=8)
    assert [event.version for event in received] == [1, 2, 3, 4, 6, 7, 9, 10]
    assert _set_aside("refused") == before + 2
    refused = await OutboxEvent.filter(set_aside__isnull=False).order_by("id")
    assert [event.id for event in refused] == [events[4].id, events[7].id]
    assert all(str(event.set_aside).startswith("refused: RuntimeError") for event in refused)


async def test_a_broker_that_refuses_everything_sets_nothing_aside(db: str) -> None:
    await _stored({})
    before = {reason: _set_aside(reason) for reason in ("refused", "too_large", "unencodable")}
    hub = Hub(queue_size=100)
    broker = {"down": True}
    bus = FussyBus(hub, refuses=lambda message: broker["down"])  # heartbeats too
    await bus.start()
    relay = OutboxRelay(bus, postgres=is_postgres(db), batch=4)
    try:
        with pytest.raises(BrokerUnavailable):
            await relay.drain()
        assert await OutboxEvent.filter(published_at__isnull=True).count() == 10
        assert not await OutboxEvent.filter(set_aside__isnull=False).exists()
        assert {reason: _set_aside(reason) for reason in before} == before

        broker["down"] = False  # back: everything goes out, in order, once
        with hub.subscribe(["bo:7"]) as subscription:
            assert await relay.drain() == 10
            received = [await subscription.get() for _ in range(10)]
            assert subscription.pending == 0
    finally:
        await bus.stop()
    assert [event.version for event in received if isinstance(event, Event)] == list(
        range(1, 11))


async def test_a_broker_lost_mid_batch_keeps_what_went_out_and_resumes_after_it(
        db: str) -> None:
    await _stored({n: "p" * 3000 for n in range(1, 11)})  # two events to a message
    hub = Hub(queue_size=100)
    broker = {"messages_left": 2}

    def refuses(message: str) -> bool:
        if broker["messages_left"] <= 0:
            return True
        broker["messages_left"] -= message != HEARTBEAT
        return False

    bus = FussyBus(hub, refuses)
    await bus.start()
    relay = OutboxRelay(bus, postgres=is_postgres(db), batch=10)
    try:
        with hub.subscribe(["bo:7"]) as subscription:
            with pytest.raises(BrokerUnavailable):
                await relay.drain()
            assert await OutboxEvent.filter(published_at__isnull=True).count() == 6
            broker["messages_left"] = 100
            assert await relay.drain() == 6
            received = [await subscription.get() for _ in range(10)]
            assert subscription.pending == 0  # none twice
    finally:
        await bus.stop()
    assert [event.version for event in received if isinstance(event, Event)] == list(
        range(1, 11))
    assert not await OutboxEvent.filter(set_aside__isnull=False).exists()
