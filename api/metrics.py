"""Prometheus metrics (the official client). Labels have bounded cardinality: operations are
named by their root fields in the schema, never by anything a client or customer chose.

Two kinds. What happens in this process (requests, websockets, allocations made here) is
exported by every instance, so a Prometheus ``sum`` over instances adds them up. What is
counted in the database (outbox depth, open back orders, notifications by status) is the
same for every instance: those gauges live in ``DATABASE`` and only the instance holding
the leadership (``api/store/leadership.py``) exports them, so ``sum`` counts them once;
``backorders_database_gauges_exporter`` says which instance that is."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from tortoise.functions import Count, Sum

from api.domain.model import Channel, NotificationStatus, Status
from api.services.clock import utcnow
from api.store.models import BackOrder, Notification, OutboxEvent, Product

DATABASE = CollectorRegistry(auto_describe=True)
"""The gauges counted in the database: exported by one instance per deployment."""

REQUESTS = Counter("backorders_graphql_requests_total", "GraphQL operations",
                   ["operation", "outcome"])
LATENCY = Histogram("backorders_graphql_request_seconds", "GraphQL operation time",
                    ["operation"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
WEBSOCKETS = Gauge("backorders_websocket_connections", "Open GraphQL websocket connections")
SUBSCRIPTIONS = Gauge("backorders_active_subscriptions", "Active subscriptions here")
ALLOCATIONS = Counter("backorders_allocations_total", "Units allocated to back orders")
EXPORTER = Gauge("backorders_database_gauges_exporter",
                 "1 on the one instance that exports the gauges counted in the database")
OUTBOX_DEPTH = Gauge("backorders_notification_outbox_depth", "Messages waiting to be sent",
                     registry=DATABASE)
OUTBOX_AGE = Gauge("backorders_notification_outbox_oldest_due_seconds",
                   "How long the oldest due message has waited", registry=DATABASE)
EVENTS_DEPTH = Gauge("backorders_event_outbox_unpublished", "Live events not yet published",
                     registry=DATABASE)
EVENTS_SET_ASIDE = Counter("backorders_events_set_aside_total",
                           "Live events the relay set aside unpublished, never to retry",
                           ["reason"])
NOTIFICATIONS_SET_ASIDE = Counter("backorders_notifications_set_aside_total",
                                  "Messages set aside that can never be rendered or sent as "
                                  "they are (template, refused, service_url)", ["reason"])
NOTIFICATIONS = Gauge("backorders_notifications", "Messages by channel and status",
                      ["channel", "status"], registry=DATABASE)
BACKORDERED = Gauge("backorders_open_backordered_units", "Units waiting in every queue",
                    registry=DATABASE)
OPEN_BACK_ORDERS = Gauge("backorders_open_back_orders", "Back orders by open status",
                         ["status"], registry=DATABASE)
OPEN_STATUSES = (Status.WAITING, Status.PARTIALLY_ALLOCATED, Status.ALLOCATED)
CHANNELS = tuple(channel.value for channel in Channel)
"""Every channel a message is written for (STAFF: the staff's alerts)."""
_notification_labels = {(channel, status.value) for channel in CHANNELS
                        for status in NotificationStatus}

__all__ = ["CONTENT_TYPE_LATEST", "render"]


async def render(subscriptions: int, exporter: bool = True) -> bytes:
    """The exposition text; with ``exporter``, the gauges counted in the database too,
    refreshed now."""
    SUBSCRIPTIONS.set(subscriptions)
    EXPORTER.set(1 if exporter else 0)
    if not exporter:
        return generate_latest()
    await refresh_database_gauges()
    return generate_latest() + generate_latest(DATABASE)


async def refresh_database_gauges() -> None:
    """Set every gauge counted in the database, each known label combination included: a
    status whose count fell to zero shows 0, not the last count it had."""
    now = utcnow()
    pending = NotificationStatus.PENDING
    depth = await Notification.filter(status=pending).count()
    OUTBOX_DEPTH.set(depth)
    oldest = await Notification.filter(status=pending, due_at__lte=now).order_by(
        "due_at").first()
    OUTBOX_AGE.set(max((now - oldest.due_at).total_seconds(), 0) if oldest else 0)
    EVENTS_DEPTH.set(await OutboxEvent.filter(published_at__isnull=True).count())
    rows = await Notification.annotate(n=Count("id")).group_by("channel", "status").values(
        "channel", "status", "n")
    counted = {(row["channel"], _value(row["status"])): row["n"] for row in rows}
    _notification_labels.update(counted)  # a channel written by no code here stays known
    for channel, status in sorted(_notification_labels):
        NOTIFICATIONS.labels(channel, status).set(counted.get((channel, status), 0))
    [total] = await Product.annotate(total=Sum("waiting")).values("total")
    BACKORDERED.set(total["total"] or 0)
    counts = {
        _value(row["status"]): row["n"]
        for row in await BackOrder.filter(status__in=OPEN_STATUSES).annotate(n=Count("id"))
        .group_by("status").values("status", "n")
    }
    for status in OPEN_STATUSES:
        OPEN_BACK_ORDERS.labels(status.value).set(counts.get(status.value, 0))


def _value(status: object) -> str:
    """A status column as its text (an enum member or the stored string)."""
    return str(getattr(status, "value", status))
