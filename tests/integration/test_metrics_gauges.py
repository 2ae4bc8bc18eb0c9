"""The gauges counted in the database: every label set on each refresh, one exporter."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from api import metrics
from api.domain.model import NotificationStatus
from api.services.clock import utcnow
from api.store.leadership import Leadership
from api.store.models import Notification


async def _scrape(exporter: bool = True) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    text = (await metrics.render(0, exporter=exporter)).decode()
    return {
        family.name: {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        for family in text_string_to_metric_families(text)
    }


async def _messages(channel: str, status: NotificationStatus, count: int) -> None:
    for _ in range(count):
        await Notification.create(event="PLACED", channel=channel, address="a@example.com",
                                  status=status, due_at=utcnow(), created_at=utcnow())


def _notifications(scrape: dict[str, dict[tuple[tuple[str, str], ...], float]],
                   channel: str, status: str) -> float:
    return scrape["backorders_notifications"][(("channel", channel), ("status", status))]


async def test_a_status_whose_count_falls_to_zero_shows_zero(db: str) -> None:
    await _messages("EMAIL", NotificationStatus.PENDING, 3)
    await _messages("SMS", NotificationStatus.SENDING, 2)
    before = await _scrape()
    assert _notifications(before, "EMAIL", "PENDING") == 3
    assert _notifications(before, "SMS", "SENDING") == 2
    assert before["backorders_notification_outbox_depth"][()] == 3

    await Notification.all().update(status=NotificationStatus.SENT)
    after = await _scrape()
    assert _notifications(after, "EMAIL", "PENDING") == 0
    assert _notifications(after, "SMS", "SENDING") == 0
    assert _notifications(after, "EMAIL", "SENT") == 3
    assert _notifications(after, "SMS", "SENT") == 2
    assert after["backorders_notification_outbox_depth"][()] == 0


async def test_every_known_label_combination_is_exported(db: str) -> None:
    scrape = await _scrape()
    labels = set(scrape["backorders_notifications"])
    for channel in metrics.CHANNELS:
        for status in NotificationStatus:
            assert (("channel", channel), ("status", status.value)) in labels
    open_back_orders = scrape["backorders_open_back_orders"]
    assert {dict(key)["status"] for key in open_back_orders} == {
        "WAITING", "PARTIALLY_ALLOCATED", "ALLOCATED"}
    assert set(open_back_orders.values()) == {0}


async def test_an_instance_that_does_not_lead_leaves_the_database_gauges_out(db: str) -> None:
    scrape = await _scrape(exporter=False)
    assert scrape["backorders_database_gauges_exporter"][()] == 0
    for name in ("backorders_notifications", "backorders_open_back_orders",
                 "backorders_notification_outbox_depth", "backorders_event_outbox_unpublished",
                 "backorders_open_backordered_units"):
        assert name not in scrape
    assert "backorders_graphql_requests" in scrape  # what happens here is exported by all


async def test_one_holder_of_the_leadership_per_database(db: str) -> None:
    first, second = Leadership(db), Leadership(db)
    try:
        assert await first.held()
        assert not await second.held()
        assert await first.held()  # kept, not taken anew
        await first.release()
        assert await second.held()
        assert not await first.held()
    finally:
        await first.release()
        await second.release()
