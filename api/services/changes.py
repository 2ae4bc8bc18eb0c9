"""Collects what a use case changed in back orders: history, versions and outbox events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api import metrics, tracing
from api.services import messages
from api.store import statements
from api.store.models import (
    BackOrder,
    BackOrderEvent,
    Charge,
    OutboxEvent,
    Product,
    WaitlistEntry,
)
from api.store.snapshots import snapshot

BACK_ORDER_TOPIC = "back_order"
PRODUCT_TOPIC = "product"
PRODUCT_COLUMNS = [name for name in Product._meta.fields_db_projection
                   if name not in ("id", "created_at")]
"""What saving a product writes (all that a use case may change)."""
WAITLIST_COLUMNS = ["quantity", "status", "held", "held_price", "hold_offered_at",
                    "hold_expires_at", "reminded_at", "order_id", "closed_at", "version",
                    "updated_at"]
"""What saving a waitlist entry writes (all that a use case may change)."""
HISTORY_FIELDS = ("back_order_id", "kind", "status", "version", "detail")
OUTBOX_FIELDS = ("topic", "key", "payload")
LEDGER_FIELDS = ("order_id", "back_order_id", "kind", "reason", "amount", "state",
                 "valid_until")


class Changes:
    """One use case's changes; ``flush`` writes them inside its transaction."""

    def __init__(self, now: datetime,
                 preferences: messages.Preferences | None = None) -> None:
        self.now = now
        self._preferences = preferences or {}
        self._dirty: dict[int, BackOrder] = {}
        self._fields: set[str] = set()
        self._events: list[tuple[BackOrder, str, dict[str, Any]]] = []
        self._products: dict[int, Product] = {}
        self._new: set[int] = set()
        self._staff: list[tuple[str, dict[str, Any]]] = []
        self._notices: list[tuple[str, str, dict[str, Any]]] = []
        self._waitlist: dict[int, WaitlistEntry] = {}
        self._ledger: list[tuple[Any, ...]] = []
        self._to_orders: dict[str, dict[int, Any]] = {}
        self._spent: list[int] = []
        self.taken: dict[int, Any] = {}
        """Per back order, the money its units set aside took in this change."""

    def staff_alert(self, event: str, **data: Any) -> None:
        """A message for the logistics staff, sent with this change."""
        self._staff.append((event, _jsonable(data)))

    def notify(self, customer: str, event: str, data: dict[str, Any]) -> None:
        """A message for a customer about something that is not a back order (a hold)."""
        self._notices.append((customer, event, _jsonable(data)))

    def waitlist_changed(self, entry: WaitlistEntry) -> None:
        """A waitlist entry this change edited: saved in full at flush, one version up."""
        self._waitlist[entry.id] = entry

    def placed(self, back_order: BackOrder) -> None:
        """A back order created by this use case: version 1, history starts with PLACED."""
        self._new.add(back_order.id)
        self._events.append((back_order, "PLACED", {}))

    def is_new(self, back_order: BackOrder) -> bool:
        return back_order.id in self._new

    def held(self, back_order: BackOrder) -> BackOrder:
        """This change's own copy of a row read again from the database, if it has one:
        its edits (a cancellation, say) are not saved before ``flush``."""
        return self._dirty.get(back_order.id, back_order)

    def dirty_ids(self) -> set[int]:
        """The back orders this change edited and has not saved yet."""
        return set(self._dirty)

    def touch(self, back_order: BackOrder, *fields: str) -> None:
        self._dirty[back_order.id] = back_order
        self._fields.update(fields)

    def record(self, back_order: BackOrder, kind: str, **detail: Any) -> dict[str, Any]:
        """Add a line to the back order's history (the row itself is saved at flush).
        Returns its detail, which may still be added to before the flush."""
        self._events.append((back_order, kind, detail))
        self._dirty[back_order.id] = back_order
        return detail

    def ledger(self, order_id: int, back_order_id: int | None, kind: str, reason: str,
               amount: Any, state: str, valid_until: datetime | None = None) -> None:
        """An entry of the order's payment ledger, written at flush."""
        self._ledger.append((order_id, back_order_id, kind, reason, amount, state,
                             valid_until))

    def add_to_order(self, order_id: int, column: str, amount: Any) -> None:
        """Money taken (``amount_charged``) or given back (``amount_refunded``) for an
        order saved before this change."""
        totals = self._to_orders.setdefault(column, {})
        totals[order_id] = totals.get(order_id, 0) + amount

    def authorization_spent(self, back_order_id: int) -> None:
        """The back order's open authorization was captured or voided in full."""
        self._spent.append(back_order_id)

    def product_changed(self, product: Product) -> None:
        self._products[product.id] = product

    async def flush(self) -> None:
        for back_order in self._dirty.values():
            if back_order.id not in self._new:
                back_order.version += 1
        if self._dirty:
            fields = sorted(self._fields | {"version", "updated_at"})
            await statements.update_rows(list(self._dirty.values()), fields)
        # A resync may have loaded its own copy of a row this change holds: use the newest.
        events = [(self.held(bo), kind, detail) for bo, kind, detail in self._events]
        await statements.insert_values(BackOrderEvent, HISTORY_FIELDS, [
            (back_order.id, kind, back_order.status, back_order.version,
             _jsonable(detail or _placed_detail(back_order)))
            for back_order, kind, detail in events
        ], {"at": self.now})
        if self._waitlist:
            for entry in self._waitlist.values():
                entry.version += 1
                entry.updated_at = self.now
            await statements.update_rows(list(self._waitlist.values()), WAITLIST_COLUMNS)
        for product in self._products.values():
            product.version += 1
        await statements.update_rows(list(self._products.values()), PRODUCT_COLUMNS)
        traced = tracing.traceparent()  # None while tracing is off
        await statements.insert_values(OutboxEvent, OUTBOX_FIELDS, self._outbox(events),
                                       {"trace_context": traced} if traced else None)
        # (closed first: a renewal's new authorization is not one of those it replaces)
        await statements.close_authorizations(self._spent, self.now)
        if self._ledger:
            await statements.insert_values(Charge, LEDGER_FIELDS, self._ledger,
                                           {"at": self.now})
        for column, amounts in self._to_orders.items():
            await statements.add_to_orders(column, amounts)
        await messages.write(events, self._staff, self.now, self._preferences,
                             self._products, traced, self._notices)
        allocated = sum(int(d.get("units", 0)) for _, kind, d in events
                        if kind in ("ALLOCATED", "PARTIALLY_ALLOCATED"))
        if allocated:
            metrics.ALLOCATIONS.inc(allocated)

    def _outbox(self, events: list[tuple[BackOrder, str, dict[str, Any]]]
                ) -> list[tuple[str, str, dict[str, Any]]]:
        touched = {bo.id: bo for bo, _, _ in events} | self._dirty
        rows = [(BACK_ORDER_TOPIC, str(bo.id), snapshot(bo)) for bo in touched.values()]
        rows += [(PRODUCT_TOPIC, p.sku, snapshot(p)) for p in self._products.values()]
        return rows


def _placed_detail(bo: BackOrder) -> dict[str, Any]:
    return {
        "quantity": bo.quantity,
        "queue_position": bo.queue_position,
        "estimated_ship_date": bo.estimated_ship_date,
    }


_PLAIN = frozenset({int, str, bool, float, type(None)})


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    if all(type(value) in _PLAIN for value in detail.values()):
        return detail
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out
