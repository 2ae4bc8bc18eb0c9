"""What the delivery log says and does when a server refuses, a template breaks or a sender
stops: in order, set aside, told truly; real Apprise against a local SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from api.domain.model import NotificationStatus
from api.notifications.dispatcher import Dispatcher, DispatchSettings
from api.services.clock import utcnow
from api.store.models import Notification, NotificationAttempt
from notifiers import render
from notifiers.messages import BUILT_IN
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import ADJUST_STOCK, SHIP_BACK_ORDER
from tests.integration.test_queries import SET_PREFERENCES
from tests.sinks import SmtpSink

TEMPORARY = "451 4.3.0 Try again later"
PERMANENT = "550 5.1.1 <{to}>: mailbox unavailable"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def sender(db: str, smtp: SmtpSink, **overrides: Any) -> Dispatcher:
    settings = DispatchSettings(urls={"EMAIL": smtp.url()}, backoff_base=60, **overrides)
    return Dispatcher(settings, postgres=db.startswith("postgres"), name="test")


async def _drain(dispatcher: Dispatcher) -> None:
    while await dispatcher.run_once():
        pass


async def _email(gql: Run, actor: object = ALICE, address: str = "alice@example.com") -> None:
    await gql(SET_PREFERENCES, actor, input={"email": address, "channels": ["EMAIL"]})


async def _make_due() -> None:
    await Notification.filter(status=NotificationStatus.PENDING).update(due_at=utcnow())


def _subjects(smtp: SmtpSink) -> list[str]:
    return [str(m["Subject"]) for m in smtp.messages]


async def _outcomes(notification_id: int) -> list[str]:
    return [a.outcome for a in await NotificationAttempt.filter(
        notification_id=notification_id).order_by("id")]


async def test_a_message_waits_for_the_earlier_one_a_server_put_off(
    gql: Run, db: str, smtp: SmtpSink
) -> None:
    await _email(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 2)
    smtp.reply(TEMPORARY)
    dispatcher = sender(db, smtp)
    await _drain(dispatcher)
    placed = await Notification.get(event="PLACED")
    assert placed.status is NotificationStatus.PENDING and placed.due_at > utcnow()
    assert placed.last_error == f"the server replied {TEMPORARY}"
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)  # one of two set aside: not moot
    await _drain(dispatcher)
    assert smtp.messages == []  # the allocation waits for "you are number 1 in line"
    await _make_due()
    await _drain(dispatcher)
    assert _subjects(smtp) == ["You are number 1 in line for Kb", "1 of 2 Kb set aside"]


async def test_a_message_a_later_state_made_moot_is_dropped_with_the_reason(
    gql: Run, db: str, smtp: SmtpSink
) -> None:
    await _email(gql)
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 1)
    smtp.reply(TEMPORARY)
    dispatcher = sender(db, smtp)
    await _drain(dispatcher)
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)
    await gql(SHIP_BACK_ORDER, STAFF, id=bo["id"])
    await _make_due()
    await _drain(dispatcher)
    assert _subjects(smtp) == ["Your Kb has shipped"]
    moot = {n.event: (n.status, n.last_error) for n in await Notification.filter(
        event__in=["PLACED", "ALLOCATED"])}
    assert moot == {
        "PLACED": (NotificationStatus.SUPPRESSED, "made moot by a later shipped message"),
        "ALLOCATED": (NotificationStatus.SUPPRESSED, "made moot by a later shipped message")}


def _set_aside_count(reason: str) -> float:
    value = REGISTRY.get_sample_value("backorders_notifications_set_aside_total",
                                      {"reason": reason})
    return value or 0.0


async def test_a_permanent_refusal_is_set_aside_with_the_reply_and_holds_back_nothing(
    gql: Run, db: str, smtp: SmtpSink
) -> None:
    await _email(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 2)
    before = _set_aside_count("refused")
    smtp.reply(PERMANENT)
    dispatcher = sender(db, smtp)
    await _drain(dispatcher)
    await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1)
    await _drain(dispatcher)
    placed = await Notification.get(event="PLACED")
    assert (placed.status, placed.set_aside, placed.attempts) == (
        NotificationStatus.SET_ASIDE, "refused", 1)
    assert placed.last_error == (
        "the server replied 550 5.1.1 <a***@example.com>: mailbox unavailable")
    assert await _outcomes(placed.id) == ["FAILED"]
    assert _subjects(smtp) == ["1 of 2 Kb set aside"]  # the next one was not held back
    assert _set_aside_count("refused") == before + 1


SET_ASIDE = """{ notifications(status: [SET_ASIDE]) { totalCount edges { node {
  id event status setAside lastError attempts } } } }"""
RETRY = """mutation($id: ID!) { retryNotification(id: $id) { __typename
  ... on NotificationPayload { notification { id status setAside } }
  ... on Error { code message } } }"""


async def test_a_template_that_cannot_render_is_set_aside_and_staff_retry_it(
    gql: Run, db: str, smtp: SmtpSink, tmp_path: Path
) -> None:
    (tmp_path / "placed.j2").write_text("{% block email_subject %}{{ no_such_value }}"
                                        "{% endblock %}")
    await _email(gql)
    await _email(gql, BOB, "bob@example.com")
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    await steps.back_order(gql, BOB, "KB", 1)
    await _drain(sender(db, smtp, template_dir=str(tmp_path)))
    assert smtp.messages == []
    listed = (await gql(SET_ASIDE, STAFF))["notifications"]
    assert listed["totalCount"] == 2
    node = listed["edges"][0]["node"]
    assert (node["status"], node["setAside"], node["attempts"]) == ("SET_ASIDE", "template", 1)
    assert "UndefinedError" in node["lastError"] and "no_such_value" in node["lastError"]
    retried = (await gql(RETRY, STAFF, id=node["id"]))["retryNotification"]
    assert retried["notification"] == {"id": node["id"], "status": "PENDING", "setAside": None}
    await _drain(sender(db, smtp))  # the template was fixed (the built-in one)
    assert len(smtp.messages) == 1
    assert (await Notification.get(id=int(node["id"]))).status is NotificationStatus.SENT
    assert (await gql(SET_ASIDE, STAFF))["notifications"]["totalCount"] == 1


async def test_a_retry_that_cannot_be_is_a_typed_error_and_changes_nothing(
    gql: Run, db: str, smtp: SmtpSink
) -> None:
    await _email(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    await _drain(sender(db, smtp))
    sent = await Notification.get(event="PLACED")
    for actor, id_, expected in ((STAFF, str(sent.id), "InvalidTransitionError"),
                                 (STAFF, "999999", "NotFoundError"),
                                 (STAFF, "x1", "InvalidInputError"),
                                 (ALICE, str(sent.id), "ForbiddenError")):
        answer = (await gql(RETRY, actor, id=id_))["retryNotification"]
        assert answer["__typename"] == expected, (id_, answer)
    row = await Notification.get(id=sent.id)
    assert (row.status, row.attempts, row.due_at) == (NotificationStatus.SENT, 1, sent.due_at)


async def test_the_text_part_is_the_template_text_block_with_its_link(
    gql: Run, db: str, smtp: SmtpSink, tmp_path: Path
) -> None:
    await _email(gql)
    await steps.product(gql, "KB")
    bo = await steps.back_order(gql, ALICE, "KB", 1)
    await _drain(sender(db, smtp, public_url="https://shop.example.com"))
    [mail] = smtp.messages
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    row = await Notification.get(event="PLACED")
    expected = render("PLACED", "EMAIL", {"currency": "USD", "status_url":
                      f"https://shop.example.com/orders/{bo['id']}", **row.data}).body
    assert text.replace("\r\n", "\n").strip() == expected
    assert f"Track it: https://shop.example.com/orders/{bo['id']}" in text
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<strong>number 1</strong>" in html


async def test_a_shops_own_text_block_is_the_text_part(
    gql: Run, db: str, smtp: SmtpSink, tmp_path: Path
) -> None:
    built_in = (BUILT_IN / "placed.j2").read_text()
    start, end = built_in.index("{% block email_text %}"), built_in.index("{% block email_html")
    (tmp_path / "placed.j2").write_text(
        built_in[:start] + "{% block email_text %}Plain words for {{ product_name }}."
        "{% endblock %}\n" + built_in[end:])
    await _email(gql)
    await steps.product(gql, "KB")
    await steps.back_order(gql, ALICE, "KB", 1)
    await _drain(sender(db, smtp, template_dir=str(tmp_path)))
    [mail] = smtp.messages
    assert mail.get_body(("plain",)).get_content().strip() == (  # type: ignore[union-attr]
        "Plain words for Kb.")


async def _customers_waiting(gql: Run, count: int) -> None:
    await steps.product(gql, "KB")
    for n in range(count):
        actor = type(ALICE)(f"c{n}", ALICE.role)
        await _email(gql, actor, f"c{n}@example.com")
        await steps.back_order(gql, actor, "KB", 1)


async def _started(smtp: SmtpSink, count: int) -> None:
    for _ in range(1000):
        if smtp.begun >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the server never got {count} messages")


async def test_a_stop_lets_the_sends_begun_finish_and_sends_nothing_twice(
    gql: Run, db: str, tmp_path: Path
) -> None:
    smtp = SmtpSink(delay=0.3).start()
    try:
        await _customers_waiting(gql, 4)
        dispatcher = sender(db, smtp, concurrency=2, stop_grace=5)
        await dispatcher.start()
        await _started(smtp, 2)
        await dispatcher.stop()
        sent = await Notification.filter(status=NotificationStatus.SENT)
        assert len(sent) == 2 and len(smtp.messages) == 2
        assert [await _outcomes(n.id) for n in sent] == [["SENT"], ["SENT"]]
        waiting = await Notification.filter(status=NotificationStatus.PENDING)
        assert [(n.attempts, n.claimed_by) for n in waiting] == [(0, None), (0, None)]
    finally:
        smtp.stop()


async def test_a_send_still_unanswered_after_the_grace_is_logged_unknown_and_sent_again(
    gql: Run, db: str, tmp_path: Path
) -> None:
    smtp = SmtpSink(delay=0.5).start()
    try:
        await _customers_waiting(gql, 2)
        dispatcher = sender(db, smtp, concurrency=2, stop_grace=0.05)
        await dispatcher.start()
        await _started(smtp, 2)
        await dispatcher.stop()
        abandoned = await Notification.all().order_by("id")
        assert [(n.status, n.attempts) for n in abandoned] == [
            (NotificationStatus.PENDING, 1), (NotificationStatus.PENDING, 1)]
        assert [await _outcomes(n.id) for n in abandoned] == [["UNKNOWN"], ["UNKNOWN"]]
        await asyncio.sleep(0.6)  # the server confirms what it had: those were delivered
        await _drain(sender(db, smtp))
        rows = await Notification.all().order_by("id")
        assert [(n.status, n.attempts) for n in rows] == [(NotificationStatus.SENT, 2)] * 2
        assert [await _outcomes(n.id) for n in rows] == [["UNKNOWN", "SENT"]] * 2
        # Each duplicate is a message the log marks UNKNOWN.
        assert sorted(str(m["To"]) for m in smtp.messages) == sorted(
            ["c0@example.com", "c1@example.com"] * 2)
    finally:
        smtp.stop()


async def test_a_claim_released_before_its_send_began_is_as_if_never_claimed(
    gql: Run, db: str, smtp: SmtpSink
) -> None:
    await _customers_waiting(gql, 2)
    dispatcher = sender(db, smtp)
    claimed = await dispatcher._claim()
    dispatcher._batch.claimed = {row.id: row for row in claimed}
    await dispatcher.release()
    rows = await Notification.all()
    assert [(n.status, n.attempts, n.claimed_by) for n in rows] == [
        (NotificationStatus.PENDING, 0, None)] * 2
    assert await NotificationAttempt.all().count() == 0
