"""The hub's bounded queues and the packing of events under the NOTIFY limit."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.realtime.events import MAX_MESSAGE_BYTES, Event, pack, unpack
from api.realtime.hub import RESYNC, Hub, Overflow


def _event(n: int, customer: str = "c1") -> Event:
    return Event("back_order", str(n), {"id": n, "version": 1, "customer_id": customer,
                                        "product_id": 7})


async def test_a_stalled_subscriber_overflows_and_the_others_get_everything() -> None:
    hub = Hub(queue_size=8)
    with hub.subscribe(["queue:7"]) as stalled, hub.subscribe(["queue:7"]) as live:
        received = []
        for n in range(20):
            hub.dispatch(_event(n))
            received.append(await live.get())
        assert [e.key for e in received if isinstance(e, Event)] == [str(n) for n in range(20)]
        assert stalled.overflowed
        with pytest.raises(Overflow):
            await stalled.get()


async def test_dispatch_reaches_only_matching_keys() -> None:
    hub = Hub()
    with hub.subscribe(["customer:alice"]) as alice, hub.subscribe(["customer:bob"]) as bob:
        hub.dispatch(_event(1, "alice"))
        assert (await alice.get()).key == "1"  # type: ignore[union-attr]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(bob.get(), 0.05)
    assert hub.subscriptions == 0


async def test_resync_reaches_every_subscription() -> None:
    hub = Hub()
    with hub.subscribe(["a"]) as first, hub.subscribe(["b", "c"]) as second:
        hub.resync_all()
        assert await first.get() is RESYNC
        assert await second.get() is RESYNC


payloads = st.dictionaries(st.sampled_from(["id", "version", "customer_id", "note"]),
                           st.one_of(st.integers(), st.text(max_size=300)), min_size=1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["back_order", "product"]),
                          st.text(max_size=20), payloads), max_size=60))
def test_packing_keeps_order_and_every_message_fits(items: list) -> None:
    events = [Event(topic, key, payload) for topic, key, payload in items]
    messages = pack((topic, key, json.dumps(payload)) for topic, key, payload in items)
    assert all(len(m.encode()) <= MAX_MESSAGE_BYTES for m in messages)
    assert [e for m in messages for e in unpack(m)] == events
