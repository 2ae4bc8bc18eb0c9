"""An event that cannot go out is named for what it is; messages say which rows they carry."""

from __future__ import annotations

import pytest

from api.realtime.events import MAX_MESSAGE_BYTES, Unpublishable, batches, encode, pack


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
