"""Every template renders every event for every state of the back order, on every channel:
no ``None``, no empty value, counts that agree with their words."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api.domain.model import Status, WaitlistStatus
from api.services.holding import notice_data
from api.services.messages import message_data
from api.store.models import BackOrder, Product, WaitlistEntry
from notifiers import CHANNELS, EVENTS, render
from notifiers.messages import ADDED_LATER

TODAY = date(2026, 3, 2)
CUSTOMER_EVENTS = ("PLACED", "DATE_CHANGED", "ALLOCATED", "SHIPPED", "PARTIALLY_SHIPPED",
                   "CANCELLED",
                   "DELAY_OFFER", "DELAY_ACCEPTED", "PRIORITY_CHANGED", "COMPENSATED",
                   "RELEASED", "RELEASE_DATE_MOVED", "EARLY_BIRD", "BALANCE_CHARGED",
                   "AUTHORIZATION_EXPIRING")
STAFF_EVENTS = ("RESTOCK_OVERDUE", "CAP_REACHED")
HOLD_EVENTS = ("HOLD_OFFERED", "HOLD_EXPIRING", "HOLD_EXPIRED")


def back_order(status: Status, quantity: int, allocated: int, position: int | None,
               ahead: int, **extra: Any) -> BackOrder:
    extra.setdefault("paid_amount", Decimal("12.50") * quantity)  # IN_FULL unless given
    return BackOrder(
        id=7, order_id=1, line_id=1, product_id=1, customer_id="alice", status=status,
        quantity=quantity, allocated=allocated, queue_position=position, units_ahead=ahead,
        placed_at=datetime(2026, 3, 1, tzinfo=UTC), unit_price=Decimal("12.50"),
        estimated_ship_date=TODAY + timedelta(days=9), promised_date=TODAY + timedelta(days=5),
        **extra)


STATES = {
    "first in line, one unit": back_order(Status.WAITING, 1, 0, 1, 0),
    "behind one unit": back_order(Status.WAITING, 2, 0, 2, 1),
    "far behind, no delivery scheduled": back_order(Status.WAITING, 3, 0, 9, 40),
    "scheduled": back_order(Status.WAITING, 1, 0, 1, 0, estimate_scheduled=True),
    "one of three set aside": back_order(Status.PARTIALLY_ALLOCATED, 3, 1, 1, 0),
    "two of three set aside": back_order(Status.PARTIALLY_ALLOCATED, 3, 2, 1, 0),
    "pre-order set aside at once": back_order(Status.ALLOCATED, 1, 1, None, 0),
    "three set aside": back_order(Status.ALLOCATED, 3, 3, None, 0),
    "shipped with a tracking code": back_order(Status.SHIPPED, 1, 1, None, 0,
                                               tracking_code="1Z999"),
    "shipped without one": back_order(Status.SHIPPED, 2, 2, None, 0, tracking_code=""),
    "cancelled": back_order(Status.CANCELLED, 2, 0, None, 0,
                            refunded_amount=Decimal("25.00")),
    "one of three shipped, first in line": back_order(Status.PARTIALLY_ALLOCATED, 3, 1, 1, 0,
                                                      shipped=1, tracking_code="1Z1"),
    "two of five shipped in two parcels": back_order(Status.PARTIALLY_ALLOCATED, 5, 2, 1, 0,
                                                     shipped=2),
    "four of five shipped": back_order(Status.PARTIALLY_ALLOCATED, 5, 4, 1, 0, shipped=4),
    "the rest shipped after a part": back_order(Status.SHIPPED, 3, 3, None, 0, shipped=3,
                                                tracking_code="1Z2"),
    "pre-order waiting, an early bird, delayed": back_order(
        Status.WAITING, 2, 0, 3, 2, pre_order=True, early_bird=True, delayed=True),
    "pre-order, one of two set aside on release": back_order(
        Status.PARTIALLY_ALLOCATED, 2, 1, 1, 0, pre_order=True, estimate_scheduled=True),
    "pre-order set aside on release, an early bird": back_order(
        Status.ALLOCATED, 1, 1, None, 0, pre_order=True, early_bird=True),
    "a deposit paid, waiting": back_order(Status.WAITING, 2, 0, 2, 1,
                                          paid_amount=Decimal("5.00")),
    "a deposit, one of two set aside": back_order(Status.PARTIALLY_ALLOCATED, 2, 1, 1, 0,
                                                  paid_amount=Decimal("12.50")),
    "authorized, waiting": back_order(Status.WAITING, 1, 0, 1, 0, paid_amount=Decimal(0),
                                      authorized_amount=Decimal("12.50"), pre_order=True),
    "authorized, cancelled": back_order(Status.CANCELLED, 1, 0, None, 0,
                                        paid_amount=Decimal(0)),
}
QUEUED = (Status.WAITING, Status.PARTIALLY_ALLOCATED)
WRITTEN_IN = {
    "PLACED": (*QUEUED, Status.ALLOCATED),  # a pre-order with stock is set aside at once
    "DATE_CHANGED": QUEUED,
    "DELAY_OFFER": QUEUED,
    "DELAY_ACCEPTED": QUEUED,
    "PRIORITY_CHANGED": QUEUED,  # a priority change that gave units lets ALLOCATED say it
    "COMPENSATED": (*QUEUED, Status.ALLOCATED),  # open, not shipped
    "ALLOCATED": (Status.PARTIALLY_ALLOCATED, Status.ALLOCATED),
    "SHIPPED": (Status.SHIPPED,),
    "PARTIALLY_SHIPPED": (Status.PARTIALLY_ALLOCATED,),
    "CANCELLED": (Status.CANCELLED,),
    "RELEASED": (*QUEUED, Status.ALLOCATED),
    "RELEASE_DATE_MOVED": QUEUED,  # before the release nothing is set aside
    "EARLY_BIRD": (*QUEUED, Status.ALLOCATED),
    "BALANCE_CHARGED": (Status.PARTIALLY_ALLOCATED, Status.ALLOCATED),
    "AUTHORIZATION_EXPIRING": QUEUED,
}
"""The states a back order can be in when each event's message is written (its data is
the back order as that change left it)."""
PARCELS = {"one of three shipped, first in line": 1, "two of five shipped in two parcels": 1,
           "four of five shipped": 4, "the rest shipped after a part": 2}
"""The units of the last parcel of the states that shipped in parts (the event's detail)."""
CASES = [(event, state) for event in CUSTOMER_EVENTS for state, row in STATES.items()
         if row.status in WRITTEN_IN[event]
         and (event != "PARTIALLY_SHIPPED" or state in PARCELS)]


def detail(state: str) -> dict[str, Any]:
    return {"previous": TODAY, "previous_release_date": TODAY + timedelta(days=2),
            "charged": Decimal("7.50"), "valid_until": datetime(2026, 3, 9, tzinfo=UTC),
            **({"units": PARCELS[state]} if state in PARCELS else {})}
PRODUCT = Product(id=1, sku="KB-ERGO", name="Ergonomic keyboard", price=Decimal("12.50"),
                  release_date=TODAY + timedelta(days=7), early_bird_bonus="a signed print")
STAFF_DATA = {
    "RESTOCK_OVERDUE": [
        {"restock_id": 4, "sku": "KB-ERGO", "product_name": "Ergonomic keyboard",
         "quantity": q, "outstanding": o, "expected_date": "2026-03-01", "waiting": w}
        for q, o, w in ((1, 1, 0), (3, 1, 1), (10, 4, 25))],
    "CAP_REACHED": [
        {"sku": "KB-ERGO", "product_name": "Ergonomic keyboard", "cap": c, "waiting": c}
        for c in (1, 2, 100)],
}

WRONG = [
    (re.compile(r"\bNone\b"), "a missing value"),
    (re.compile(r"\bnull\b|\bundefined\b"), "a missing value"),
    (re.compile(r"\(\s*\)|#\s|number\s+in\b|place\s+in\b|:\s*$|\s[.,;]", re.M), "an empty value"),
    (re.compile(r"\b1 (units|are|have)\b"), "one with a plural"),
    (re.compile(r"\ball 1\b|\b1 x "), "one counted as many"),
    (re.compile(r"(?<!of )\b(0|[2-9]|\d{2,}) (unit|is|has)\b"), "many with a singular"),
    (re.compile(r"(?<!of your )(?<!for )\b(\d+|all \d+) x [^.()]*\([^)]*\) (is|has)\b"),
     "many with a singular"),
    (re.compile(r"[^\n] {2,}\S"), "a doubled space where a value was left out"),
]


def _problems(text: str) -> list[str]:
    return [f"{why}: {text!r}" for pattern, why in WRONG if pattern.search(text)]


def _rendered(event: str, channel: str, data: dict[str, Any]) -> list[str]:
    message = render(event, channel, data)
    parts = [message.title, message.body, *([message.html] if message.html else [])]
    assert message.body.strip(), f"{event} on {channel} has no body"
    if channel != "SMS":
        assert message.title.strip(), f"{event} on {channel} has no title"
    return [part for part in parts if part]


def _text_of(html: str) -> str:
    return re.sub(r"&times;", "x", re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize("link", ["", "https://shop.example.com/orders/7"])
@pytest.mark.parametrize(("event", "state"), CASES)
def test_every_customer_template_reads_right_in_every_state(event: str, state: str,
                                                            link: str) -> None:
    data = {"currency": "USD", "status_url": link, "rate_url": f"{link}/rate" if link else "",
            **message_data(STATES[state], PRODUCT, detail(state))}
    for channel in ("EMAIL", "SMS", "PUSH"):
        for part in _rendered(event, channel, data):
            assert _problems(_text_of(part)) == [], (event, state, channel)


@pytest.mark.parametrize(("event", "state"), CASES)
def test_a_message_queued_by_an_earlier_version_still_reads_right(event: str,
                                                                  state: str) -> None:
    """A message written before the keys of later versions (parts shipped, pre-orders,
    payments) existed and still waiting at the upgrade is sent, not set aside as broken."""
    now = message_data(STATES[state], PRODUCT, detail(state))
    data = {"currency": "USD", "status_url": "", "rate_url": "",
            **{key: value for key, value in now.items()
               if key not in ADDED_LATER and key != "refunded"}}
    for channel in ("EMAIL", "SMS", "PUSH"):
        for part in _rendered(event, channel, data):
            assert _problems(_text_of(part)) == [], (event, state, channel)


def test_the_defaults_for_earlier_messages_name_keys_the_service_writes() -> None:
    written = message_data(STATES["scheduled"], PRODUCT, detail("scheduled"))
    assert set(ADDED_LATER) <= set(written), set(ADDED_LATER) - set(written)


@pytest.mark.parametrize("event", STAFF_EVENTS)
def test_every_staff_template_reads_right(event: str) -> None:
    for data in STAFF_DATA[event]:
        for channel in CHANNELS:
            for part in _rendered(event, channel, {"currency": "USD", "status_url": "",
                                                   **data}):
                assert _problems(_text_of(part)) == [], (event, data, channel)


def hold(wanted: int, held: int) -> WaitlistEntry:
    return WaitlistEntry(id=12, product_id=1, customer_id="alice", quantity=wanted, held=held,
                         status=WaitlistStatus.HOLDING, held_price=Decimal("11.00"),
                         hold_expires_at=datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
                         joined_at=datetime(2026, 2, 1, tzinfo=UTC))


HOLDS = {"one held of one": hold(1, 1), "three held of three": hold(3, 3),
         "one held of four": hold(4, 1), "two held of five": hold(5, 2)}


@pytest.mark.parametrize("link", ["", "https://shop.example.com/waitlist/12"])
@pytest.mark.parametrize("state", list(HOLDS))
@pytest.mark.parametrize("event", HOLD_EVENTS)
def test_every_hold_template_reads_right(event: str, state: str, link: str) -> None:
    entry = HOLDS[state]
    data = {"currency": "USD", "status_url": "", "claim_url": link,
            **notice_data(entry, PRODUCT, expired_at=entry.hold_expires_at)}
    for channel in ("EMAIL", "SMS", "PUSH"):
        parts = _rendered(event, channel, data)
        for part in parts:
            assert _problems(_text_of(part)) == [], (event, state, channel)
        if link and event != "HOLD_EXPIRED" and channel != "PUSH":
            assert any(link in part for part in parts), (event, state, channel)


def test_a_hold_offer_says_what_is_held_until_when_and_at_what_price() -> None:
    data = {"currency": "USD", "status_url": "", "claim_url": "",
            **notice_data(HOLDS["two held of five"], PRODUCT)}
    message = render("HOLD_OFFERED", "EMAIL", data)
    assert message.title == "Ergonomic keyboard is back: 2 are held for you"
    assert ("2 of the 5 you asked for are held for you at 11.00 USD each until "
            "2026-03-03 09:30 UTC") in message.body
    one = render("HOLD_OFFERED", "SMS", {**data, **notice_data(HOLDS["one held of one"],
                                                                PRODUCT)}).body
    assert "1 unit held for you" in one


def test_the_tables_cover_every_event_and_state() -> None:
    assert set(CUSTOMER_EVENTS) | set(STAFF_EVENTS) | set(HOLD_EVENTS) == set(EVENTS)
    assert {row.status for row in STATES.values()} == set(Status)
    assert {event for event, _ in CASES} == set(CUSTOMER_EVENTS)


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("event", CUSTOMER_EVENTS)
def test_any_template_renders_in_any_state_without_a_missing_value(event: str,
                                                                   state: str) -> None:
    data = {"currency": "USD", "status_url": "",
            **message_data(STATES[state], PRODUCT, {})}
    for channel in ("EMAIL", "SMS", "PUSH"):
        for part in _rendered(event, channel, data):
            assert "None" not in part, (event, state, channel)


def test_a_pre_order_set_aside_at_once_is_told_so_not_a_place_in_line() -> None:
    data = {"currency": "USD", "status_url": "",
            **message_data(STATES["pre-order set aside at once"], PRODUCT, {})}
    message = render("PLACED", "EMAIL", data)
    assert message.title == "Your Ergonomic keyboard is set aside for you"
    assert "Ergonomic keyboard (KB-ERGO) is set aside for you." in message.body
    assert "in line" not in message.body


def test_one_unit_set_aside_is_not_all_1() -> None:
    data = {"currency": "USD", "status_url": "",
            **message_data(STATES["pre-order set aside at once"], PRODUCT, {})}
    body = render("ALLOCATED", "EMAIL", data).body
    assert body.startswith("Good news: your Ergonomic keyboard (KB-ERGO) is in stock and set "
                           "aside for you. It ships by 2026-03-11.")


def test_a_partial_shipment_says_what_shipped_and_what_keeps_its_place() -> None:
    state = "two of five shipped in two parcels"
    data = {"currency": "USD", "status_url": "",
            **message_data(STATES[state], PRODUCT, detail(state))}
    body = render("PARTIALLY_SHIPPED", "EMAIL", data).body
    assert body.startswith("1 of your 5 x Ergonomic keyboard (KB-ERGO) shipped today, 2 in "
                           "all so far.")
    assert ("The other 3 units stay in line for you: you are number 1, and the estimated "
            "ship date is 2026-03-11.") in body
    last = "the rest shipped after a part"
    shipped = render("SHIPPED", "EMAIL", {"currency": "USD", "status_url": "", **message_data(
        STATES[last], PRODUCT, detail(last))}).body
    assert "This parcel has the remaining 2 units; the others shipped earlier." in shipped


def test_the_checks_catch_what_they_are_for() -> None:
    assert _problems("You are number None in line")
    assert _problems("Good news: all 1 x Mug (M) are in stock")
    assert _problems("with 1 units ahead of you")
    assert _problems("3 x Mug (M) has shipped")
    assert _problems("Tracking code: .")
    assert _problems("You are number  in line")
    assert _problems("Good news: your Mug (M) is in stock. It ships by 2026-03-11.") == []


def test_the_shipped_message_links_to_where_to_rate_the_wait() -> None:
    link = "https://shop.example.com/orders/7"
    data = {"currency": "USD", "status_url": link, "rate_url": f"{link}/rate",
            **message_data(STATES["shipped with a tracking code"], PRODUCT, {"previous": TODAY})}
    for channel in ("EMAIL", "SMS"):
        assert any(f"{link}/rate" in part for part in _rendered("SHIPPED", channel, data))


def test_a_cancel_by_cancellation_says_why_and_a_customer_one_does_not() -> None:
    row = back_order(Status.CANCELLED, 2, 0, None, 0, refunded_amount=Decimal("25.00"),
                     cancel_by=TODAY)
    why = "it had not shipped by 2026-03-02, the date you set"
    by_date = {"currency": "USD", "status_url": "",
               **message_data(row, PRODUCT, {"cancel_by": TODAY})}
    by_customer = {"currency": "USD", "status_url": "",
                   **message_data(row, PRODUCT, {"reason": "changed my mind"})}
    for channel in ("EMAIL", "SMS"):
        parts = _rendered("CANCELLED", channel, by_date)
        assert any("2026-03-02" in part for part in parts), channel
        assert all(_problems(_text_of(part)) == [] for part in parts)
        assert not any("2026-03-02" in part for part in _rendered(
            "CANCELLED", channel, by_customer)), channel
    assert why in render("CANCELLED", "EMAIL", by_date).body


def test_a_compensation_message_names_the_credit_from_its_event() -> None:
    row = back_order(Status.WAITING, 2, 0, 3, 4, compensated_amount=Decimal("2.50"))
    data = {"currency": "USD", "status_url": "",
            **message_data(row, PRODUCT, {"amount": Decimal("2.50")})}
    message = render("COMPENSATED", "EMAIL", data)
    assert message.title == "Sorry for the wait: 2.50 USD credited for your Ergonomic keyboard"
    assert "we credited 2.50 USD to your order" in message.body
    assert "You are number 3 in line" in message.body


def _email(event: str, state: str, **extra: Any) -> str:
    message = render(event, "EMAIL", {"currency": "USD", "status_url": "", **message_data(
        STATES[state], PRODUCT, {**detail(state), **extra})})
    return f"{message.title}\n{message.body}"


def test_a_moved_release_says_both_days_and_offers_a_delayed_pre_order_the_choice() -> None:
    text = _email("RELEASE_DATE_MOVED", "pre-order waiting, an early bird, delayed")
    assert f"from {TODAY + timedelta(days=2)} to {TODAY + timedelta(days=7)}" in text
    assert "cancel now with a full refund of 25.00 USD" in text
    on_time = _email("RELEASE_DATE_MOVED", "first in line, one unit")
    assert "You can cancel at any time" in on_time and "later than we promised" not in on_time


def test_a_release_says_what_is_set_aside_and_the_early_bird_bonus() -> None:
    text = _email("RELEASED", "pre-order set aside on release, an early bird")
    assert "is set aside for you" in text and "early bird: a signed print" in text
    part = _email("RELEASED", "pre-order, one of two set aside on release")
    assert "1 of your 2 x Ergonomic keyboard is set aside" in part
    assert "number 1 in line" in part and "early bird" not in part


def test_a_new_pre_order_says_it_is_one_and_when_it_comes_out() -> None:
    text = _email("PLACED", "pre-order waiting, an early bird, delayed")
    assert f"comes out on {TODAY + timedelta(days=7)}" in text
    assert "You are an early bird: a signed print." in text
    assert "pre-order" not in _email("PLACED", "first in line, one unit")
