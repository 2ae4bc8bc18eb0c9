"""Which messages a committed change causes, written in the same transaction.

A customer hears of a change on each channel they chose, for the events they chose. Date
changes are held for a short window (the dispatcher's) and a later one replaces a pending
one, so a burst becomes one message with the final date; a date that came back to where it
was is not sent at all. A message not sent yet that a later change makes moot (a date
once allocated, "you are number 1 in line" once shipped: ``api/domain/notices.py``) is
dropped with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from api.domain.model import QUEUED_STATUSES, Channel, NotificationStatus
from api.domain.notices import FOLDS, MOOTS, absorbed, moot_reason, moots
from api.store import prepared, statements
from api.store.models import BackOrder, Notification, NotificationPreferences, Product

Preferences = dict[str, NotificationPreferences | None]
"""Customers whose preferences are known; None for one who gets no messages."""

# History kinds -> notification events.
EVENT_FOR = {
    "PLACED": "PLACED",
    "DATE_CHANGED": "DATE_CHANGED",
    "PARTIALLY_ALLOCATED": "ALLOCATED",
    "ALLOCATED": "ALLOCATED",
    "SHIPPED": "SHIPPED",
    "PARTIALLY_SHIPPED": "PARTIALLY_SHIPPED",
    "CANCELLED": "CANCELLED",
    "DELAYED": "DELAY_OFFER",
    "DELAY_ACCEPTED": "DELAY_ACCEPTED",
    "PRIORITY_CHANGED": "PRIORITY_CHANGED",
    "COMPENSATED": "COMPENSATED",
    "RELEASED": "RELEASED",
    "RELEASE_DATE_MOVED": "RELEASE_DATE_MOVED",
    "EARLY_BIRD": "EARLY_BIRD",
    "BALANCE_CHARGED": "BALANCE_CHARGED",
    "AUTHORIZATION_EXPIRING": "AUTHORIZATION_EXPIRING",
}
MOOTS_DATE = {later for later, earlier in MOOTS.items() if "DATE_CHANGED" in earlier}
STAFF = Channel.STAFF.value


def customer_events(history: list[tuple[BackOrder, str, dict[str, Any]]]) -> list[
        tuple[BackOrder, str, dict[str, Any]]]:
    """One message per back order and event for a change; date moves only for those waiting."""
    kinds: dict[int, dict[str, dict[str, Any]]] = {}
    rows: dict[int, BackOrder] = {}
    for back_order, kind, detail in history:
        event = EVENT_FOR.get(kind)
        if event is not None:
            kinds.setdefault(back_order.id, {})[event] = detail
            rows[back_order.id] = back_order
    out = []
    for bo_id, events in kinds.items():
        back_order = rows[bo_id]
        if "DATE_CHANGED" in events and (
            "PLACED" in events or MOOTS_DATE & events.keys()
            or back_order.status not in QUEUED_STATUSES
        ):
            del events["DATE_CHANGED"]
        out += [(back_order, event, detail) for event, detail in events.items()]
    return out


async def preferences(customers: list[str]) -> Preferences:
    """The preferences of ``customers`` who have not opted out."""
    wanted = sorted(set(customers))
    if statements.is_postgres(statements.connection()):
        sql = PREFERENCES_OF_MANY.format(prepared.select_list(NotificationPreferences))
        found = {p.customer_id: p for p in await statements.fetch_models(
            NotificationPreferences, sql, [wanted])}
    else:
        found = {
            p.customer_id: p
            for part in chunked(wanted)
            for p in await NotificationPreferences.filter(customer_id__in=part,
                                                          opted_out=False)
        }
    return {customer: found.get(customer) for customer in customers}


PREFERENCES_OF_MANY = ('SELECT {} FROM "notification_preferences"'
                       ' WHERE "customer_id" = ANY($1::text[]) AND NOT "opted_out"')
"""PostgreSQL: one array parameter for any number of customers."""


async def preferences_of(customer: str) -> Preferences:
    """One customer's preferences, through a prepared statement (the order path)."""
    rows = await statements.fetch(
        'SELECT * FROM "notification_preferences" WHERE "customer_id" = $1', [customer])
    found = [NotificationPreferences._init_from_db(**row) for row in rows]
    return {customer: next((p for p in found if not p.opted_out), None)}


async def write(history: list[tuple[BackOrder, str, dict[str, Any]]],
                staff: list[tuple[str, dict[str, Any]]], now: datetime,
                known: Preferences | None = None,
                products: dict[int, Product] | None = None,
                trace_context: str | None = None,
                notices: list[tuple[str, str, dict[str, Any]]] | None = None) -> None:
    """``known`` preferences and ``products`` (by id) are used as they are; the rest are
    read. ``trace_context`` (a W3C traceparent) goes on every message written. ``notices``
    are (customer, event, data) messages about something other than a back order."""
    wanted = customer_events(history)
    if wanted:
        await _write_customer_messages(wanted, now, known or {}, products or {},
                                       trace_context)
    if notices:
        await _write_notices(notices, now, known or {}, trace_context)
    await statements.insert([
        Notification(event=event, channel=STAFF, address="staff", data=data,
                     due_at=now, created_at=now, trace_context=trace_context)
        for event, data in staff
    ])


async def _write_customer_messages(wanted: list[tuple[BackOrder, str, dict[str, Any]]],
                                   now: datetime, known: Preferences,
                                   products: dict[int, Product],
                                   trace_context: str | None) -> None:
    chosen = await _chosen({bo.customer_id for bo, _, _ in wanted}, known)
    if not chosen:
        return
    wanted = [item for item in wanted if item[0].customer_id in chosen]
    missing = {bo.product_id for bo, _, _ in wanted} - products.keys()
    if missing:
        products = {**products, **{p.id: p for p in await Product.filter(id__in=missing)}}
    await _drop_moot(wanted)
    pending = await _pending_folds(
        sorted({bo.id for bo, event, _ in wanted if event in FOLDS}))
    rows: list[tuple[str, int, str, str, str, dict[str, Any]]] = []
    folded: list[Notification] = []
    heard: dict[int, set[str]] = {}  # per back order, the events its customer hears
    for back_order, event, _ in wanted:
        prefs = chosen[back_order.customer_id]
        if not prefs.events or event in prefs.events:
            heard.setdefault(back_order.id, set()).add(event)
    said = {bo_id: absorbed(events) for bo_id, events in heard.items()}
    for back_order, event, detail in wanted:
        if event not in heard.get(back_order.id, ()) or event in said[back_order.id]:
            continue  # not chosen, or said by another message the customer gets
        prefs = chosen[back_order.customer_id]
        data = message_data(back_order, products[back_order.product_id], detail)
        for channel in prefs.channels:
            address = _address(prefs, Channel(channel))
            if address is None:
                continue
            earlier = pending.get((back_order.id, event, channel))
            if earlier is not None:
                folded.append(_fold(earlier, data, *FOLDS[event]))
                continue
            rows.append((back_order.customer_id, back_order.id, event, channel, address, data))
    if folded:
        await Notification.bulk_update(folded, fields=["data", "status", "last_error"],
                                       batch_size=500)
    await _insert_customer_messages(rows, now, trace_context)


async def _chosen(customers: set[str], known: Preferences
                  ) -> dict[str, NotificationPreferences]:
    """The preferences of ``customers`` who get messages (``known`` ones as they are)."""
    unknown = sorted(customer for customer in customers if customer not in known)
    found = {**known, **(await preferences(unknown) if unknown else {})}
    return {c: p for c in sorted(customers) if (p := found[c]) is not None}


async def _insert_customer_messages(rows: Sequence[tuple[str, int | None, str, str, str,
                                                         dict[str, Any]]],
                                    now: datetime, trace_context: str | None) -> None:
    shared: dict[str, Any] = {"due_at": now, "created_at": now}
    if trace_context:
        shared["trace_context"] = trace_context
    await statements.insert_values(Notification, CUSTOMER_MESSAGE_FIELDS, rows, shared)


async def _write_notices(notices: list[tuple[str, str, dict[str, Any]]], now: datetime,
                         known: Preferences, trace_context: str | None) -> None:
    chosen = await _chosen({customer for customer, _, _ in notices}, known)
    rows: list[tuple[str, int | None, str, str, str, dict[str, Any]]] = []
    for customer, event, data in notices:
        prefs = chosen.get(customer)
        if prefs is None or (prefs.events and event not in prefs.events):
            continue
        for channel in prefs.channels:
            address = _address(prefs, Channel(channel))
            if address is not None:
                rows.append((customer, None, event, channel, address, data))
    await _insert_customer_messages(rows, now, trace_context)


async def _drop_moot(wanted: list[tuple[BackOrder, str, dict[str, Any]]]) -> None:
    """Pending messages of these back orders that their new events make moot are
    suppressed with the reason (one that is being sent is left to go, in order)."""
    by_event: dict[str, set[int]] = {}
    for back_order, event, _ in wanted:
        if moots(event):
            by_event.setdefault(event, set()).add(back_order.id)
    for event, ids in sorted(by_event.items()):
        for part in chunked(sorted(ids)):
            await Notification.filter(back_order_id__in=part, event__in=sorted(moots(event)),
                                      status=NotificationStatus.PENDING).update(
                status=NotificationStatus.SUPPRESSED, last_error=moot_reason(event))


CUSTOMER_MESSAGE_FIELDS = ("customer_id", "back_order_id", "event", "channel", "address",
                           "data")


async def _pending_folds(back_order_ids: list[int]) -> dict[tuple[int, str, str],
                                                            Notification]:
    """The pending messages that a later one of their event folds into (``FOLDS``), by
    (back order, event, channel)."""
    found: dict[tuple[int, str, str], Notification] = {}
    for part in chunked(back_order_ids):
        for row in await Notification.filter(
                back_order_id__in=part, event__in=sorted(FOLDS),
                status=NotificationStatus.PENDING).select_for_update():
            found[(row.back_order_id or 0, row.event, row.channel)] = row
    return found


def _fold(pending: Notification, data: dict[str, Any], first: str, final: str
          ) -> Notification:
    """A change into a pending one of its event: the message says first -> final value."""
    merged = {**data, first: pending.data.get(first)}
    pending.data = merged
    if merged[first] == merged[final]:
        pending.status = NotificationStatus.SUPPRESSED
        pending.last_error = "the date came back to where it was"
    return pending


CHUNK = 5000
"""Keeps ``IN (...)`` lists well under PostgreSQL's 32,767 query parameters."""


def chunked(values: list[Any]) -> list[list[Any]]:
    return [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)]


def message_data(bo: BackOrder, product: Product, detail: dict[str, Any]) -> dict[str, Any]:
    """What the templates may use; plain JSON values only."""
    refund = (bo.refunded_amount if bo.status.value == "CANCELLED" else
              max(bo.paid_amount - bo.unit_price * bo.shipped, Decimal(0)))
    owed = max(bo.unit_price * bo.quantity - bo.paid_amount, Decimal(0))
    return {
        "back_order_id": bo.id,
        "customer_id": bo.customer_id,
        "sku": product.sku,
        "product_name": product.name,
        "quantity": bo.quantity,
        "allocated": bo.allocated if bo.status.value != "CANCELLED" else 0,
        "queue_position": bo.queue_position,
        "units_ahead": bo.units_ahead,
        "estimated_ship_date": bo.estimated_ship_date.isoformat(),
        "estimate_scheduled": bo.estimate_scheduled,
        "previous_date": _iso(detail.get("previous")) or bo.promised_date.isoformat(),
        "promised_date": bo.promised_date.isoformat(),
        "tracking_code": bo.tracking_code,
        "shipped": bo.shipped,
        # On a PARTIALLY_SHIPPED message: the units of this parcel.
        "shipped_now": int(detail.get("units") or 0),
        # What was refunded (CANCELLED), or what cancelling now would refund.
        "refund_amount": str(refund),
        "refunded": refund > 0,
        "version": bo.version,
        # Set on a CANCELLED message when the customer's cancel-by day passed unshipped.
        "cancel_by": _iso(detail.get("cancel_by")),
        "credit_amount": str(detail.get("amount") or bo.compensated_amount),
        # Pre-orders (api/domain/preorders.py): the release day (on RELEASE_DATE_MOVED, the
        # day before the move too), whether it is delayed now, and its early-bird mark.
        "pre_order": bo.pre_order,
        "release_date": _iso(product.release_date),
        "previous_release_date": _iso(detail.get("previous_release_date")),
        "delayed": bo.delayed,
        "early_bird": bo.early_bird,
        "early_bird_bonus": product.early_bird_bonus,
        # Payments (api/domain/payments.py): the product's terms, what this back order has
        # paid and still owes, what this change took for it (on ALLOCATED, RELEASED and
        # BALANCE_CHARGED), and when an expiring authorization lapses.
        "payment_mode": product.payment_mode.value,
        "paid_amount": str(bo.paid_amount),
        "balance_due": str(owed),
        "owes": owed > 0,
        "charged_amount": _money(detail.get("charged")),
        "authorized_amount": str(bo.authorized_amount),
        "authorization_valid_until": _iso(detail.get("valid_until")),
    }


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat() if hasattr(value, "isoformat") else value)


def _address(prefs: NotificationPreferences, channel: Channel) -> str | None:
    if channel is Channel.EMAIL:
        return prefs.email
    if channel is Channel.SMS:
        return prefs.phone
    return prefs.push_target
