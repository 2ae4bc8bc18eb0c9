"""Prometheus metrics (the official client). Labels have bounded cardinality: operations are
named by their root fields in the schema, never by anything a client or customer chose."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from tortoise.functions import Count, Sum

from api.domain.model import NotificationStatus, Status
from api.services.clock import utcnow
from api.store.models import BackOrder, Notification, OutboxEvent, Product

REQUESTS = Counter("backorders_graphql_requests_total", "GraphQL operations",
                   ["operation", "outcome"])
LATENCY = Histogram("backorders_graphql_request_seconds", "GraphQL operation time",
                    ["operation"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
WEBSOCKETS = Gauge("backorders_websocket_connections", "Open GraphQL websocket connections")
SUBSCRIPTIONS = Gauge("backorders_active_subscriptions", "Active subscriptions here")
ALLOCATIONS = Counter("backorders_allocations_total", "Units allocated to back orders")
OUTBOX_DEPTH = Gauge("backorders_notification_outbox_depth", "Messages waiting to be sent")
OUTBOX_AGE = Gauge("backorders_notification_outbox_oldest_due_seconds",
                   "How long the oldest due message has waited")
EVENTS_DEPTH = Gauge("backorders_event_outbox_unpublished", "Live events not yet published")
EVENTS_SET_ASIDE = Counter("backorders_events_set_aside_total",
                           "Live events the relay set aside unpublished, never to retry",
                           ["reason"])
NOTIFICATIONS_SET_ASIDE = Counter("backorders_notifications_set_aside_total",
                                  "Messages set aside that can never be rendered or sent as "
                                  "they are (template, refused, service_url)", ["reason"])
NOTIFICATIONS = Gauge("backorders_notifications", "Messages by channel and status",
                      ["channel", "status"])
BACKORDERED = Gauge("backorders_open_backordered_units", "Units waiting in every queue")
OPEN_BACK_ORDERS = Gauge("backorders_open_back_orders", "Back orders by open status",
                         ["status"])

__all__ = ["CONTENT_TYPE_LATEST", "render"]


async def render(subscriptions: int) -> bytes:
    """Refresh the figures that live in the database, then the exposition text."""
    SUBSCRIPTIONS.set(subscriptions)
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
    for row in rows:
        NOTIFICATIONS.labels(row["channel"], str(row["status"])).set(row["n"])
    [total] = await Product.annotate(total=Sum("waiting")).values("total")
    BACKORDERED.set(total["total"] or 0)
    open_statuses = (Status.WAITING, Status.PARTIALLY_ALLOCATED, Status.ALLOCATED)
    counts = {
        str(row["status"]): row["n"]
        for row in await BackOrder.filter(status__in=open_statuses).annotate(n=Count("id"))
        .group_by("status").values("status", "n")
    }
    for status in open_statuses:
        OPEN_BACK_ORDERS.labels(status.value).set(counts.get(status.value, 0))
    return generate_latest()
