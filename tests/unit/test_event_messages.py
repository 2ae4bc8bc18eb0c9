"""An event that cannot go out is named for what it is, and a bad one never spoils a message's
other events on the receiving side."""

from __future__ import annotations

import logging

import pytest

from api.realtime.bus import EventBus
from api.realtime.events import MAX_MESSAGE_BYTES, Event, Unpublishable, batches, encode, pack
from api.realtime.hub import Hub


def test_an_event_larger_than_a_message_is_unpublishable_as_too_large() -> None:
    with pytest.raises(Unpublishable) as raised:
        encode("back_order", "7", '{"note": "' + "x" * MAX_MESSAGE_BYTES + '"}')
    assert raised.value.reason == "too_large"


def test_an_event_that_is_not_text_is_unpublishable_as_unencodable() -> None:
    with pytest.raises(Unpublishable) as raised:
        encode("back_order", 7, "{}")  # type: ignore[arg-type]
    assert raised.value.reason == "unencodable"


def test_pack_still_refuses_an_oversized_event() -> None:
    with pytest.raises(Unpublishable):
        pack([("back_order", "1", "{}"), ("back_order", "2", "[" + "1," * 4000 + "1]")])


def test_batches_tell_which_rows_each_message_carries() -> None:
    pad = "p" * 3000
    items = [(n, encode("back_order", str(n), f'{{"id": {n}, "pad": "{pad}"}}'))
             for n in range(5)]
    grouped = list(batches(items))
    assert [tags for tags, _ in grouped] == [[0, 1], [2, 3], [4]]
    assert all(len(message.encode()) <= MAX_MESSAGE_BYTES for _, message in grouped)


async def test_a_bad_event_in_a_message_is_dropped_and_the_others_delivered(
        caplog: pytest.LogCaptureFixture) -> None:
    hub = Hub()
    bus = EventBus("memory://", hub)
    good = '["back_order","1",{"id":1,"version":2,"customer_id":"alice","product_id":3}]'
    bad = '["back_order","2",{"id":2}]'  # no customer: it cannot be addressed
    with hub.subscribe(["bo:1"]) as subscription, caplog.at_level(logging.ERROR):
        bus._deliver(f"[{bad},{good}]")
        bus._deliver("[not json")
        received = await subscription.get()
    assert received == Event("back_order", "1", {"id": 1, "version": 2, "customer_id": "alice",
                                                 "product_id": 3})
    assert "back_order:2 dropped" in caplog.text
    assert "unreadable message dropped" in caplog.text
