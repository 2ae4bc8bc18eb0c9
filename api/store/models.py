"""Tortoise models. Field names follow the domain's words."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from api.domain.model import (
    ChargeKind,
    ChargeReason,
    ChargeState,
    NotificationStatus,
    PaymentMode,
    Policy,
    QueueEntry,
    RestockStatus,
    Shipping,
    Status,
    Stock,
    Supply,
    WaitlistStatus,
)
from api.domain.payments import PaymentTerms
from api.domain.restocks import RestockState
from api.domain.webhooks import DeliveryStatus


def money(default: int | None = None, db_default: int | None = None
          ) -> fields.DecimalField:  # type: ignore[type-arg]
    """A sum of money; ``db_default`` for a column added to a table that has rows."""
    if default is None:
        return fields.DecimalField(max_digits=14, decimal_places=2)
    if db_default is not None:
        return fields.DecimalField(max_digits=14, decimal_places=2, default=default,
                                   db_default=db_default)
    return fields.DecimalField(max_digits=14, decimal_places=2, default=default)


class Product(Model):
    id = fields.IntField(primary_key=True)
    sku = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    digital = fields.BooleanField(default=False)
    price = money()
    discontinued = fields.BooleanField(default=False)
    on_hand = fields.IntField(default=0)
    allocated = fields.IntField(default=0)
    waiting = fields.IntField(default=0)
    # Units held for waitlisters (api/domain/holds.py): not allocated, not free.
    held = fields.IntField(default=0, db_default=0)
    allow_backorders = fields.BooleanField(default=True)
    backorder_cap = fields.IntField(null=True)
    lead_time_days = fields.IntField(default=14)
    handling_days = fields.IntField(default=1)
    release_date = fields.DateField(null=True)
    # When it was released (api/services/releases.py): set once, by the scheduled release
    # at its release date or by staff early; null while a pre-order or never one.
    released_at = fields.DatetimeField(null=True)
    # At most this many units on pre-order at once (null: the back-order cap applies).
    pre_order_cap = fields.IntField(null=True)
    # The first this many pre-orders in queue order are early birds (api/domain/preorders.py).
    early_bird_size = fields.IntField(null=True)
    early_bird_bonus = fields.CharField(max_length=200, default="", db_default="")
    # When back-ordered units are paid for (api/domain/payments.py).
    payment_mode = fields.CharEnumField(PaymentMode, max_length=16, default=PaymentMode.IN_FULL,
                                        db_default=PaymentMode.IN_FULL.value)
    deposit_amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    deposit_percent = fields.DecimalField(max_digits=5, decimal_places=2, null=True)
    delay_grace_days = fields.IntField(default=2)
    low_stock_threshold = fields.IntField(default=5)
    customer_limit = fields.IntField(null=True)
    # The product's own compensation for late back orders (api/domain/promises.py): after
    # this many days past the promised date, a fixed amount or a percent of what was paid;
    # null after_days means the shop's policy (settings) applies.
    compensation_after_days = fields.IntField(null=True)
    compensation_amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    compensation_percent = fields.DecimalField(max_digits=5, decimal_places=2, null=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "product"

    @property
    def policy(self) -> Policy:
        return Policy(
            allow_backorders=self.allow_backorders,
            cap=self.backorder_cap,
            lead_time_days=self.lead_time_days,
            handling_days=self.handling_days,
            release_date=self.release_date,
            delay_grace_days=self.delay_grace_days,
            pre_order_cap=self.pre_order_cap,
            early_bird_size=self.early_bird_size,
            low_stock_threshold=self.low_stock_threshold,
            customer_limit=self.customer_limit,
        )

    @property
    def stock(self) -> Stock:
        return Stock(on_hand=self.on_hand, allocated=self.allocated, waiting=self.waiting,
                     held=self.held)

    @property
    def payment(self) -> PaymentTerms:
        return PaymentTerms(self.payment_mode, self.deposit_amount, self.deposit_percent)


class Restock(Model):
    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="restocks", on_delete=fields.RESTRICT
    )
    product_id: int
    quantity = fields.IntField()
    received = fields.IntField(default=0)
    expected_date = fields.DateField()
    status = fields.CharEnumField(RestockStatus, max_length=20, default=RestockStatus.SCHEDULED)
    note = fields.CharField(max_length=200, default="")
    overdue_alerted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "restock"
        indexes = (("product_id", "status", "expected_date"),)

    @property
    def state(self) -> RestockState:
        """The restock as its status machine sees it (``api/domain/restocks.py``)."""
        return RestockState(self.status, self.quantity, self.received)

    @property
    def outstanding(self) -> int:
        return self.state.outstanding

    @property
    def over_delivered(self) -> int:
        return self.state.over_delivered

    @property
    def supply(self) -> Supply:
        return Supply(expected=self.expected_date, units=self.outstanding)


class Order(Model):
    id = fields.IntField(primary_key=True)
    customer_id = fields.CharField(max_length=128, db_index=True)
    idempotency_key = fields.CharField(max_length=128)
    request_hash = fields.CharField(max_length=64)
    currency = fields.CharField(max_length=3)
    amount_charged = money()
    amount_refunded = money(default=0)
    # Compensation credited for late back orders (store credit; no payment is moved).
    amount_credited = money(default=0, db_default=0)
    placed_at = fields.DatetimeField()
    # Ship each part as it is allocated, or everything together (api/domain/shipping.py).
    shipping = fields.CharEnumField(Shipping, max_length=20, default=Shipping.SHIP_AS_ALLOCATED,
                                    db_default=Shipping.SHIP_AS_ALLOCATED.value)

    class Meta:
        table = "customer_order"
        unique_together = (("customer_id", "idempotency_key"),)


class OrderLine(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="lines", on_delete=fields.CASCADE
    )
    order_id: int
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="order_lines", on_delete=fields.RESTRICT
    )
    product_id: int
    quantity = fields.IntField()
    unit_price = money()
    amount_charged = money()
    allocated_now = fields.IntField()
    backordered = fields.IntField()
    shipped_at = fields.DatetimeField(null=True)
    tracking_code = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "order_line"


class BackOrder(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="back_orders", on_delete=fields.CASCADE
    )
    order_id: int
    line: fields.ForeignKeyRelation[OrderLine] = fields.ForeignKeyField(
        "models.OrderLine", related_name="back_orders", on_delete=fields.CASCADE
    )
    line_id: int
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="back_orders", on_delete=fields.RESTRICT
    )
    product_id: int
    customer_id = fields.CharField(max_length=128)
    quantity = fields.IntField()
    allocated = fields.IntField(default=0)
    # Units of it shipped so far (at most allocated; a part ships before the rest is there).
    shipped = fields.IntField(default=0, db_default=0)
    status = fields.CharEnumField(Status, max_length=24, default=Status.WAITING)
    priority = fields.IntField(default=0)
    placed_at = fields.DatetimeField()
    unit_price = money()
    queue_position = fields.IntField(null=True)
    units_ahead = fields.IntField(default=0)
    estimated_ship_date = fields.DateField()
    estimate_scheduled = fields.BooleanField(default=False)
    promised_date = fields.DateField()
    delayed = fields.BooleanField(default=False)
    refunded_amount = money(default=0)
    tracking_code = fields.CharField(max_length=128, null=True)
    version = fields.IntField(default=1)
    allocated_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # The customer's promise to themselves: not shipped by the end of this (UTC) day, it
    # cancels itself with a full refund.
    cancel_by = fields.DateField(null=True)
    # The last delay offer (keep waiting or cancel) and the customer's "keep waiting".
    delay_offered_at = fields.DatetimeField(null=True)
    delay_accepted_at = fields.DatetimeField(null=True)
    # The credit for being late (at most once).
    compensated_amount = money(default=0, db_default=0)
    compensated_at = fields.DatetimeField(null=True)
    # Placed before its product's release (api/services/releases.py tells it of the release).
    pre_order = fields.BooleanField(default=False, db_default=False)
    # One of the product's first early_bird_size pre-orders in queue order (the bonus).
    early_bird = fields.BooleanField(default=False, db_default=False)
    # Taken for it (charges and captures; refunds are refunded_amount) and held for it by
    # an open authorization (api/domain/payments.py).
    paid_amount = money(default=0, db_default=0)
    authorized_amount = money(default=0, db_default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "back_order"
        indexes = (
            ("product_id", "status", "priority", "placed_at"),
            ("customer_id", "id"),
            ("cancel_by", "status"),
        )

    @property
    def remaining_units(self) -> int:
        return self.quantity - self.allocated

    @property
    def entry(self) -> QueueEntry:
        return QueueEntry(
            id=self.id,
            priority=self.priority,
            placed_at=self.placed_at,
            quantity=self.quantity,
            allocated=self.allocated,
        )


class Charge(Model):
    # One entry of an order's payment ledger: amounts and states only, no provider is called.
    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="charges", on_delete=fields.CASCADE
    )
    order_id: int
    # The back order it is for; null for units taken from stock at order.
    back_order_id = fields.IntField(null=True)
    kind = fields.CharEnumField(ChargeKind, max_length=16)
    reason = fields.CharEnumField(ChargeReason, max_length=16)
    amount = money()
    state = fields.CharEnumField(ChargeState, max_length=12)
    at = fields.DatetimeField()
    # An authorization's: when it lapses, when its customer was told it soon would, and
    # when it was captured or voided in full (or replaced, or lapsed).
    valid_until = fields.DatetimeField(null=True)
    flagged_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "charge"
        indexes = (("state", "valid_until"), ("back_order_id", "kind"))


class Shipment(Model):
    # One parcel of a back order: the units shipped at once, with their tracking code.
    id = fields.IntField(primary_key=True)
    back_order: fields.ForeignKeyRelation[BackOrder] = fields.ForeignKeyField(
        "models.BackOrder", related_name="shipments", on_delete=fields.CASCADE)
    back_order_id: int
    units = fields.IntField()
    tracking_code = fields.CharField(max_length=128, null=True)
    shipped_at = fields.DatetimeField()

    class Meta:
        table = "shipment"
        indexes = (("back_order_id", "id"),)


class BackOrderEvent(Model):
    # One line of a back order history.
    id = fields.IntField(primary_key=True)
    back_order: fields.ForeignKeyRelation[BackOrder] = fields.ForeignKeyField(
        "models.BackOrder", related_name="events", on_delete=fields.CASCADE
    )
    back_order_id: int
    kind = fields.CharField(max_length=32)
    status = fields.CharEnumField(Status, max_length=24)
    version = fields.IntField()
    at = fields.DatetimeField()
    detail: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "back_order_event"
        indexes = (("back_order_id", "id"),)


class OutboxEvent(Model):
    # Events written in the transaction of a use case; consumers publish them after commit.
    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=64)
    key = fields.CharField(max_length=128)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When the relay was done with the event: it went out, or (set_aside says why) it never
    # can and was put aside so the events after it are not held back.
    published_at = fields.DatetimeField(null=True)
    set_aside = fields.CharField(max_length=200, null=True)
    # The W3C traceparent of the span that wrote it, when tracing was on (api/tracing.py):
    # the relay's publish span continues that trace.
    trace_context = fields.CharField(max_length=55, null=True)
    # When the webhook fan-out wrote the event's deliveries (api/webhooks/fanout.py).
    webhooks_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_event"
        indexes = (("published_at", "id"), ("topic", "key", "id"), ("webhooks_at", "id"))


class NotificationPreferences(Model):
    id = fields.IntField(primary_key=True)
    customer_id = fields.CharField(max_length=128, unique=True)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    push_target = fields.CharField(max_length=512, null=True)
    channels: fields.JSONField[list[str]] = fields.JSONField(default=list)
    events: fields.JSONField[list[str]] = fields.JSONField(default=list)
    opted_out = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notification_preferences"


class Notification(Model):
    # One message to one address on one channel; written in the transaction of its cause.
    id = fields.BigIntField(primary_key=True)
    customer_id = fields.CharField(max_length=128, null=True)
    back_order_id = fields.IntField(null=True)
    event = fields.CharField(max_length=32)
    channel = fields.CharField(max_length=8)
    address = fields.CharField(max_length=512)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(NotificationStatus, max_length=12,
                                  default=NotificationStatus.PENDING)
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField()
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    # Why it was set aside (status SET_ASIDE): template, refused or service_url; last_error
    # has the detail.
    set_aside = fields.CharField(max_length=32, null=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)
    # The W3C traceparent of the span that wrote it, when tracing was on: each send's span
    # continues that trace.
    trace_context = fields.CharField(max_length=55, null=True)

    class Meta:
        table = "notification"
        indexes = (("status", "due_at"), ("back_order_id", "id"), ("customer_id", "id"))


class NotificationAttempt(Model):
    id = fields.BigIntField(primary_key=True)
    notification: fields.ForeignKeyRelation[Notification] = fields.ForeignKeyField(
        "models.Notification", related_name="attempt_log", on_delete=fields.CASCADE
    )
    notification_id: int
    number = fields.IntField()
    outcome = fields.CharField(max_length=12)
    error = fields.CharField(max_length=500, null=True)
    worker = fields.CharField(max_length=64)
    at = fields.DatetimeField()

    class Meta:
        table = "notification_attempt"
        indexes = (("notification_id", "id"),)


class TokenRevocation(Model):
    # Every token of ``subject`` issued at or before ``revoked_before`` is refused (one row
    # a subject, only ever raised: api/services/revocations.py).
    id = fields.IntField(primary_key=True)
    subject = fields.CharField(max_length=128, unique=True)
    revoked_before = fields.DatetimeField()

    class Meta:
        table = "token_revocation"


class WebhookEndpoint(Model):
    # A system of the shop's that wants events: its URL, which events, and the secret the
    # deliveries are signed with (never read back through the API).
    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    events: fields.JSONField[list[str]] = fields.JSONField(default=list)
    secret = fields.CharField(max_length=100)
    # After a rotation the old secret signs too, until previous_secret_until.
    previous_secret = fields.CharField(max_length=100, null=True)
    previous_secret_until = fields.DatetimeField(null=True)
    description = fields.CharField(max_length=200, default="")
    enabled = fields.BooleanField(default=True)
    created_by = fields.CharField(max_length=128)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_endpoint"


class WebhookDelivery(Model):
    # One outbox event for one endpoint, written by the fan-out; its id is the webhook-id
    # every attempt carries, so a receiver can drop a retry it already has.
    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: int
    event_id = fields.BigIntField()
    event_type = fields.CharField(max_length=32)
    topic = fields.CharField(max_length=64)
    key = fields.CharField(max_length=128)
    body = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=12, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField()
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    last_status_code = fields.IntField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint_id", "event_id"),)
        indexes = (("status", "due_at"), ("endpoint_id", "topic", "key", "event_id"))


class WebhookAttempt(Model):
    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    delivery_id: int
    number = fields.IntField()
    outcome = fields.CharField(max_length=12)
    status_code = fields.IntField(null=True)
    error = fields.CharField(max_length=500, null=True)
    duration_ms = fields.IntField(null=True)
    worker = fields.CharField(max_length=64)
    at = fields.DatetimeField()

    class Meta:
        table = "webhook_attempt"
        indexes = (("delivery_id", "id"),)


class WaitRating(Model):
    # A customer's verdict on the wait of one shipped back order: once (unique back order).
    id = fields.IntField(primary_key=True)
    back_order: fields.ForeignKeyRelation[BackOrder] = fields.ForeignKeyField(
        "models.BackOrder", related_name="wait_ratings", on_delete=fields.CASCADE)
    back_order_id: int
    customer_id = fields.CharField(max_length=128)
    rating = fields.SmallIntField()
    comment = fields.CharField(max_length=1000, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "wait_rating"
        unique_together = (("back_order_id",),)


class WaitlistEntry(Model):
    # A customer on a product's notify-me list (api/domain/holds.py): waiting, then holding
    # units offered to them until hold_expires_at, then claimed (order_id), expired or left.
    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="waitlist", on_delete=fields.RESTRICT)
    product_id: int
    customer_id = fields.CharField(max_length=128)
    quantity = fields.IntField()
    status = fields.CharEnumField(WaitlistStatus, max_length=12, default=WaitlistStatus.WAITING)
    held = fields.IntField(default=0)
    held_price = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    hold_offered_at = fields.DatetimeField(null=True)
    hold_expires_at = fields.DatetimeField(null=True)
    reminded_at = fields.DatetimeField(null=True)
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="waitlist_claims", null=True, on_delete=fields.SET_NULL)
    order_id: int | None
    joined_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "waitlist_entry"
        indexes = (("product_id", "status", "id"), ("status", "hold_expires_at"),
                   ("customer_id", "id"))
