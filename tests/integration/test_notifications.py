"""Messages are written with their cause and sent through real Apprise to local sinks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from api.domain.model import NotificationStatus
from api.graphql.context import Context
from api.notifications.dispatcher import Dispatcher, DispatchSettings
from api.services.clock import utcnow
from api.settings import Settings
from api.store.models import Notification, NotificationAttempt
from tests.inprocess import executor_schema, schema
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import (
    ADJUST_STOCK,
    CANCEL_BACK_ORDER,
    RECEIVE_RESTOCK,
    RESCHEDULE_RESTOCK,
    SHIP_BACK_ORDER,
)
from tests.integration.test_ordering import in_days
from tests.integration.test_queries import SET_PREFERENCES
from tests.sinks import HttpSink, SmtpSink


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def http() -> Iterator[HttpSink]:
    sink = HttpSink().start()
    yield sink
    sink.stop()


def dispatcher(db: str, smtp: SmtpSink, http: HttpSink, **overrides: object) -> Dispatcher:
    settings = DispatchSettings(
        urls={"EMAIL": smtp.url(), "SMS": http.url("sms"), "PUSH": http.url("push"),
              "STAFF": smtp.url().replace("{to}", "logistics@example.com")},
        coalesce=timedelta(0), backoff_base=0.01, **overrides)  # type: ignore[arg-type]
    return Dispatcher(settings, postgres=db.startswith("postgres"), name="test")


async def _prefer(gql: Run, actor: object, **input: object) -> None:
    data = await gql(SET_PREFERENCES, actor, input=input)
    assert data["setNotificationPreferences"]["__typename"] == "NotificationPreferencesPayload"


async def _drain(sender: Dispatcher) -> None:
    while await sender.run_once():
        pass


async def test_a_back_order_is_announced_on_every_chosen_channel(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", phone="+14155550100",
                  channels=["EMAIL", "SMS"])
    await steps.product(gql, "KB", leadTimeDays=21)
    await steps.back_order(gql, ALICE, "KB", 2)
    await _drain(dispatcher(db, smtp, http))
    [mail] = smtp.to("alice@example.com")
    assert mail["Subject"] == "You are number 1 in line for Kb"
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "number 1</strong> in line" in html and in_days(21) in html
    [(path, sms)] = http.requests
    assert path == "/sms" and sms["to"] == "+14155550100"
    assert in_days(21) in sms["message"] and len(sms["message"]) <= 160


async def test_allocation_shipment_and_cancellation_are_told(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, pushTarget="alice-phone", channels=["PUSH"])
    await steps.product(gql, "KB", price="30.00")
    sender = dispatcher(db, smtp, http)
    first = await steps.back_order(gql, ALICE, "KB", 1)
    second = await steps.back_order(gql, ALICE, "KB", 1)
    await _drain(sender)
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)
    await _drain(sender)  # sent before the shipment, so not made moot by it
    await gql(SHIP_BACK_ORDER, STAFF, id=first["id"])
    await gql(CANCEL_BACK_ORDER, ALICE, id=second["id"])
    await _drain(sender)
    titles = [body["title"] for _, body in http.requests]
    assert sorted(titles) == sorted(["#1 in line for Kb", "#2 in line for Kb", "Kb set aside",
                                     "Kb shipped", "Back order cancelled"])
    # One back order's messages arrive in the order things happened to it.
    assert titles.index("#1 in line for Kb") < titles.index("Kb set aside") < titles.index(
        "Kb shipped")
    assert "30.00 USD refunded for Kb." in [body["message"] for _, body in http.requests]


async def test_a_burst_of_date_changes_is_one_message_with_the_final_date(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"],
                  events=["DATE_CHANGED"])
    await steps.product(gql, "KB", handlingDays=0, delayGraceDays=30)
    restock = await steps.restock(gql, "KB", 5, in_days(5))
    await steps.back_order(gql, ALICE, "KB", 1)
    for days in (6, 7, 8):
        await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(days))
    await _drain(dispatcher(db, smtp, http))
    [mail] = smtp.to("alice@example.com")
    text = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"moved from {in_days(5)} to <strong>{in_days(8)}" in text


async def test_a_date_that_comes_back_is_not_sent(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"],
                  events=["DATE_CHANGED"])
    await steps.product(gql, "KB", handlingDays=0)
    restock = await steps.restock(gql, "KB", 5, in_days(5))
    await steps.back_order(gql, ALICE, "KB", 1)
    await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(6))
    await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(5))
    await _drain(dispatcher(db, smtp, http))
    assert smtp.messages == []


async def test_a_down_mail_server_is_retried_then_delivered_once(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"])
    await steps.product(gql, "KB")
    smtp.stop()
    await steps.back_order(gql, ALICE, "KB", 1)
    sender = dispatcher(db, smtp, http)
    await sender.run_once()
    row = await Notification.get(event="PLACED")
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
    assert row.last_error and "Connection" in row.last_error
    smtp.start()
    await Notification.filter(id=row.id).update(due_at=utcnow())
    await _drain(sender)
    await row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 2)
    assert len(smtp.to("alice@example.com")) == 1
    outcomes = [a.outcome for a in await NotificationAttempt.filter(notification_id=row.id)
                .order_by("id")]
    assert outcomes == ["FAILED", "SENT"]


async def test_a_message_that_keeps_failing_is_marked_failed(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"])
    await steps.product(gql, "KB")
    smtp.stop()
    await steps.back_order(gql, ALICE, "KB", 1)
    sender = dispatcher(db, smtp, http, max_attempts=2)
    for _ in range(2):
        await Notification.all().update(due_at=utcnow())
        await sender.run_once()
    row = await Notification.get(event="PLACED")
    assert (row.status, row.attempts) == (NotificationStatus.FAILED, 2)


async def test_a_claim_whose_sender_died_is_sent_again_and_logged(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"])
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    dead = dispatcher(db, smtp, http)
    [claimed] = await dead._claim()  # claimed, then the process "dies" before sending
    await Notification.filter(id=claimed.id).update(claimed_until=utcnow() - timedelta(1))
    await _drain(dispatcher(db, smtp, http))
    row = await Notification.get(id=claimed.id)
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 2)
    outcomes = [a.outcome for a in await NotificationAttempt.filter(notification_id=row.id)
                .order_by("id")]
    assert outcomes == ["UNKNOWN", "SENT"]


async def test_opted_out_customers_and_unchosen_events_get_nothing(gql: Run) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"], optedOut=True)
    await _prefer(gql, BOB, email="bob@example.com", channels=["EMAIL"], events=["SHIPPED"])
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    await steps.back_order(gql, BOB, "KB", 1)
    assert await Notification.all().count() == 0


async def test_staff_hear_when_the_cap_is_reached(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await steps.product(gql, "KB", backorderCap=2)
    await steps.back_order(gql, ALICE, "KB", 2)
    await _drain(dispatcher(db, smtp, http))
    [mail] = smtp.to("logistics@example.com")
    assert mail["Subject"] == "Back-order cap reached: KB is out of stock"


STAFF_LOG = """{ notifications { edges { node { event channel backOrderId address } } } }"""


async def test_a_staff_alert_in_the_log_has_its_event_and_channel(gql: Run) -> None:
    await steps.product(gql, "KB", backorderCap=2)
    await steps.back_order(gql, ALICE, "KB", 2)
    expected = {"data": {"notifications": {"edges": [{"node": {
        "event": "CAP_REACHED", "channel": "STAFF", "backOrderId": None, "address": "*taff"}}]}},
        "errors": None}
    context = Context(STAFF, Settings())
    for ours in (schema, executor_schema):  # the plans and the executor say the same
        result = await ours.execute(STAFF_LOG, context_value=context)
        assert {"data": result.data, "errors": result.errors} == expected


async def test_customers_cannot_choose_the_staff_channel_or_alerts(gql: Run) -> None:
    for input, field in (({"email": "a@example.com", "channels": ["STAFF"]}, "channels"),
                         ({"email": "a@example.com", "channels": ["EMAIL"],
                           "events": ["PLACED", "CAP_REACHED"]}, "events")):
        data = await gql(SET_PREFERENCES, ALICE, input=input)
        assert data["setNotificationPreferences"] == {"__typename": "InvalidInputError",
                                                      "field": field}
    preferences = await gql("{ viewer { notificationPreferences { channels events } } }",
                            ALICE)
    assert preferences["viewer"]["notificationPreferences"] == {"channels": [], "events": []}


async def test_staff_hear_of_an_overdue_restock_once(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await steps.product(gql, "KB")
    restock = await steps.restock(gql, "KB", 5, in_days(1))
    from api.store.models import Restock
    await Restock.filter(id=int(restock)).update(expected_date=utcnow().date() - timedelta(2))
    sender = dispatcher(db, smtp, http)
    await sender.check_overdue_restocks()
    sender._last_overdue_check = None
    await sender.check_overdue_restocks()
    await _drain(sender)
    [mail] = smtp.to("logistics@example.com")
    assert mail["Subject"].startswith("Restock overdue: KB")


async def test_a_received_restock_tells_the_waiting(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"],
                  events=["ALLOCATED"])
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 2)
    restock = await steps.restock(gql, "KB", 2, in_days(2))
    await gql(RECEIVE_RESTOCK, STAFF, id=restock)
    await _drain(dispatcher(db, smtp, http))
    [mail] = smtp.to("alice@example.com")
    assert mail["Subject"] == "Your Kb is set aside"


DELIVERY_LOG = """query($id: ID!) { backOrder(id: $id) { notifications {
  event channel status attempts lastError address attemptLog { outcome } } } }"""
FAILED = """{ notifications(status: [FAILED]) { totalCount edges { node { event lastError } } } }"""


async def test_the_delivery_log_in_graphql(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink
) -> None:
    await _prefer(gql, ALICE, email="alice@example.com", channels=["EMAIL"])
    await steps.product(gql, "KB")
    smtp.stop()
    bo = await steps.back_order(gql, ALICE, "KB", 1)
    await dispatcher(db, smtp, http, max_attempts=1).run_once()
    [log] = (await gql(DELIVERY_LOG, ALICE, id=bo["id"]))["backOrder"]["notifications"]
    assert (log["event"], log["channel"], log["status"], log["attempts"]) == (
        "PLACED", "EMAIL", "FAILED", 1)
    assert log["address"] == "a***@example.com"
    assert log["attemptLog"] == [{"outcome": "FAILED"}]
    failed = (await gql(FAILED, STAFF))["notifications"]
    assert failed["totalCount"] == 1
    assert "Connection" in failed["edges"][0]["node"]["lastError"]


async def test_large_changes_are_read_in_chunks(
    gql: Run, db: str, smtp: SmtpSink, http: HttpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import messages as outbox
    monkeypatch.setattr(outbox, "CHUNK", 1)  # every list above one id takes several queries
    for actor, email in ((ALICE, "alice@example.com"), (BOB, "bob@example.com")):
        await _prefer(gql, actor, email=email, channels=["EMAIL"], events=["DATE_CHANGED"])
    await steps.product(gql, "KB", handlingDays=0, delayGraceDays=30)
    restock = await steps.restock(gql, "KB", 5, in_days(5))
    await steps.back_order(gql, ALICE, "KB", 1)
    await steps.back_order(gql, BOB, "KB", 1)
    for days in (6, 7):
        await gql(RESCHEDULE_RESTOCK, STAFF, id=restock, date=in_days(days))
    await _drain(dispatcher(db, smtp, http))
    assert sorted(str(m["To"]) for m in smtp.messages) == ["alice@example.com",
                                                             "bob@example.com"]
