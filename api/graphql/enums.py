"""Every enum of the API, each value with its description.

The enums are the domain's (``api/domain``), which imports no Strawberry, so the GraphQL
names and descriptions are given here, once; ``described`` refuses an enum with a value
left undescribed.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry

from api.domain import model
from api.domain.currencies import NAMES as CURRENCY_NAMES
from api.domain.currencies import CurrencyCode as CurrencyCodeValue
from api.domain.identity import Role as RoleValue
from api.domain.webhooks import DeliveryStatus as DeliveryStatusValue
from api.domain.webhooks import WebhookEvent as WebhookEventValue
from api.services.reads import BackOrderSort as BackOrderSortValue


def described(enum: type[Enum], name: str, description: str, values: dict[Any, str]) -> Any:
    """A GraphQL enum of a domain enum, each value with its description."""
    graphql_enum = strawberry.enum(enum, name=name, description=description)
    definition = graphql_enum.__strawberry_definition__  # type: ignore[attr-defined]
    assert set(values) == set(enum), f"{name}: describe every value"
    definition.values = [dataclasses.replace(v, description=values[enum(v.value)])
                         for v in definition.values]
    return graphql_enum


A = model.Availability
Availability = described(A, "Availability", (
    "What a storefront shows for a product, worked out from its stock, queue and policy "
    "today."), {
    A.IN_STOCK: "Units are free and nobody waits: an order ships from stock.",
    A.LOW_STOCK: (
        "Units are free and nobody waits, but no more than the product's "
        "`lowStockThreshold`."),
    A.BACKORDERABLE: (
        "No unit is free (or others already wait): an order is back-ordered and ships when "
        "a restock comes."),
    A.PREORDER: "Orderable before the product's `releaseDate`; nothing ships before it.",
    A.OUT_OF_STOCK: (
        "Nothing can be ordered: no free unit and no back orders allowed (or the cap is "
        "reached), or the product is discontinued."),
})

S = model.Status
BackOrderStatus = described(S, "BackOrderStatus", (
    "Where a back order stands. It moves WAITING -> PARTIALLY_ALLOCATED -> ALLOCATED -> "
    "SHIPPED, and may be CANCELLED until it ships."), {
    S.WAITING: "In the queue; no unit is set aside for it yet.",
    S.PARTIALLY_ALLOCATED: "In the queue, at its head, with some of its units set aside.",
    S.ALLOCATED: "Every unit is set aside; it waits for staff to ship it.",
    S.SHIPPED: "Shipped (closed).",
    S.CANCELLED: "Cancelled and refunded in full (closed).",
})

R = model.RestockStatus
RestockStatus = described(R, "RestockStatus", "Where an expected delivery stands.", {
    R.SCHEDULED: "Expected on its `expectedDate`; nothing received yet.",
    R.PARTIALLY_RECEIVED: "Part of it was counted in; the rest is still expected.",
    R.RECEIVED: "Counted in in full (closed).",
    R.CANCELLED: "It will not come (closed); what was received stays counted in.",
})

C = model.Channel
Channel = described(C, "Channel", "How a message reaches its reader.", {
    C.EMAIL: "An email to the customer's `email`.",
    C.SMS: "A text message to the customer's `phone`.",
    C.PUSH: "A push notification to the customer's `pushTarget`.",
    C.STAFF: (
        "The logistics staff's own channel (the server's staff address); a customer cannot "
        "choose it."),
})

E = model.NotificationEvent
NotificationEvent = described(E, "NotificationEvent", (
    "What a message is about. A customer chooses among the customer events; the staff "
    "alerts go to the STAFF channel."), {
    E.PLACED: "A back order was placed.",
    E.DATE_CHANGED: (
        "A waiting back order's estimated ship date moved (a burst of moves becomes one "
        "message with the final date)."),
    E.ALLOCATED: "Units were set aside for a back order, in part or in full.",
    E.SHIPPED: "A back order shipped.",
    E.CANCELLED: ("A back order was cancelled and refunded (by the customer, staff, or "
                  "itself when its cancel-by day passed unshipped)."),
    E.DELAY_OFFER: (
        "A back order's estimate moved beyond its promised date (plus the product's "
        "`delayGraceDays`): the customer is offered to keep waiting (`acceptDelay`) or cancel "
        "with a full refund; an unanswered offer keeps the back order."),
    E.DELAY_ACCEPTED: (
        "The customer answered a delay offer with \"keep waiting\" (`acceptDelay`): the "
        "confirmation, with their place and the date as they are now."),
    E.COMPENSATED: (
        "A back order late by more than the compensation policy's days was credited (once; "
        "the amount is on the back order and its order)."),
    E.PRIORITY_CHANGED: (
        "Staff changed a waiting back order's priority: its place in line and date, as they "
        "are now (the places and dates of the others behind or ahead move by DATE_CHANGED)."),
    E.PARTIALLY_SHIPPED: (
        "Part of a back order shipped (the units set aside so far, with a tracking code); "
        "the rest stays in line, with its place and date."),
    E.HOLD_OFFERED: (
        "Units of a product the customer is on the waitlist of are held for them: they may "
        "claim them (`claimHold`) at the held price until the hold expires."),
    E.HOLD_EXPIRING: (
        "A hold of theirs ends soon (BACKORDERS_HOLD_REMINDER_MINUTES before it expires); "
        "sent once, only while it is unclaimed."),
    E.HOLD_EXPIRED: (
        "A hold of theirs ended unclaimed; the units went to the next in line (they are off "
        "the waitlist)."),
    E.RELEASED: (
        "A pre-order's product was released: whether its units are set aside (and when they "
        "ship) or its place in line and date; an early bird's bonus; a delay with its offer."),
    E.RELEASE_DATE_MOVED: (
        "A pre-order's release date moved: the old and the new day, its estimate, and a "
        "delay with its offer (a burst of moves becomes one message)."),
    E.EARLY_BIRD: (
        "A pre-order became an early bird after a cancelled one's mark came free (a new "
        "early bird is told in its PLACED message)."),
    E.ACCESS_GRANTED: "Access to a digital product was granted (no message is sent for it "
                      "yet).",
    E.BALANCE_CHARGED: (
        "Units of a back order paid by deposit or on release were set aside and what they "
        "owed was taken (said by the ALLOCATED or RELEASED message of the same change, for "
        "a customer who hears those)."),
    E.AUTHORIZATION_EXPIRING: (
        "The hold on the customer's payment (a product paid on release) ends soon, before "
        "the units are set aside: the shop will ask again (`BACKORDERS_AUTHORIZATION_NOTICE"
        "_HOURS` before it lapses)."),
    E.CAP_REACHED: "Staff alert: a product's back-order cap was reached.",
    E.RESTOCK_OVERDUE: "Staff alert: a scheduled restock is past its expected date.",
})

PM = model.PaymentMode
PaymentMode = described(PM, "PaymentMode", (
    "When back-ordered (and pre-ordered) units are paid for; units in stock are always paid "
    "in full at order. Amounts and states only: the service calls no payment provider."), {
    PM.IN_FULL: "Everything at order. The default.",
    PM.DEPOSIT: (
        "A deposit at order (`depositAmount`, or `depositPercent` of the back order), the "
        "rest as its units are set aside (BALANCE_CHARGED)."),
    PM.ON_RELEASE: (
        "Nothing taken at order: the whole amount is authorized (held) and captured as the "
        "units are set aside, for a pre-order at its release at the earliest. An "
        "authorization holds for `BACKORDERS_AUTHORIZATION_VALID_DAYS`."),
})

CK = model.ChargeKind
ChargeKind = described(CK, "ChargeKind", "What a ledger entry did with the customer's money.", {
    CK.CHARGE: "Money taken.",
    CK.AUTHORIZATION: "Money held on the customer's payment, to be captured later.",
    CK.CAPTURE: "Held money taken (part or all of an authorization).",
    CK.VOID: "Held money released untaken.",
    CK.REFUND: "Money given back.",
})

CR = model.ChargeReason
ChargeReason = described(CR, "ChargeReason", "Why a ledger entry was made.", {
    CR.IN_STOCK: "The units an order line took from stock.",
    CR.BACK_ORDER: "A back order, in full at order (or authorized in full, on release).",
    CR.DEPOSIT: "A back order's deposit at order.",
    CR.BALANCE: "What a back order's units set aside owed (after a deposit, or on release).",
    CR.RENEWAL: "Staff authorized what a back order still owes again (`renewAuthorization`).",
    CR.CANCELLATION: "A cancelled back order: what it paid back, what it held released.",
})

CS = model.ChargeState
ChargeState = described(CS, "ChargeState", "Where a ledger entry stands.", {
    CS.SUCCEEDED: "Done (a charge, capture, void or refund).",
    CS.AUTHORIZED: "An authorization still holding money (see `validUntil`).",
    CS.CLOSED: "An authorization captured or voided in full, or replaced by a renewal.",
    CS.EXPIRED: (
        "An authorization that lapsed holding money: what the back order owes is charged "
        "anew when its units are set aside, unless staff renew it first."),
})

SP = model.Shipping
ShippingPreference = described(SP, "ShippingPreference", (
    "How an order's parts ship: the customer or the shop chooses per order."), {
    SP.SHIP_AS_ALLOCATED: (
        "Each part ships as soon as it is set aside: staff may ship the allocated part of a "
        "partly allocated back order (`shipAllocatedUnits`); the rest keeps its place in "
        "line. The default."),
    SP.SHIP_TOGETHER: (
        "Everything ships in one go: no part of the order ships while any of its back "
        "orders still waits (an early ship is InvalidTransitionError from "
        "SHIPS_WITH_ITS_ORDER)."),
})

WS = model.WaitlistStatus
WaitlistStatus = described(WS, "WaitlistStatus", (
    "Where a place on a notify-me list stands: WAITING -> HOLDING -> CLAIMED, or EXPIRED "
    "(the hold passed on), or LEFT."), {
    WS.WAITING: "On the list; no unit is held for them yet.",
    WS.HOLDING: (
        "Units are held for them until `holdExpiresAt`: nobody else can take them, and "
        "`claimHold` turns them into an order at the held price."),
    WS.CLAIMED: "The hold became an order (`order`); closed.",
    WS.EXPIRED: "The hold ended unclaimed and passed to the next in line; closed.",
    WS.LEFT: "They left the list (any units held passed on); closed.",
})

N = model.NotificationStatus
NotificationStatus = described(N, "NotificationStatus", "Where a message stands.", {
    N.PENDING: "Waiting to be sent, or to be tried again after a failure.",
    N.SENDING: "Being sent now.",
    N.SENT: "The channel's service accepted it.",
    N.FAILED: "Every attempt failed; staff may `retryNotification` it.",
    N.SUPPRESSED: (
        "Not sent, on purpose: a later change made it moot, or the server has no service "
        "for its channel; `lastError` says which."),
    N.SET_ASIDE: (
        "It can never be sent as it is (see `setAside`); kept for staff to retry, never "
        "holding back later messages."),
})

Role = described(RoleValue, "Role", "What a bearer token lets its holder do.", {
    RoleValue.CUSTOMER: "A customer: sees and changes only their own orders and back orders.",
    RoleValue.STAFF: "The shop's staff: sees everything and runs the catalogue and stock.",
})

B = BackOrderSortValue
BackOrderSort = described(B, "BackOrderSort", "The order of a page of back orders.", {
    B.PLACED: "Oldest first (by id): every back order.",
    B.QUEUE: (
        "By product, then by place in its queue (head first): only back orders still in "
        "a queue."),
})

W = WebhookEventValue
WebhookEvent = described(W, "WebhookEvent", (
    "A kind of change an endpoint can ask for: the changes a subscription would see."), {
    W.BACK_ORDER_UPDATED: (
        "Any committed change of a back order (placed, allocated, moved in the queue, date "
        "changed, shipped, cancelled); `type` on the wire: `back_order.updated`, `data` the "
        "back order with its `version`."),
    W.PRODUCT_UPDATED: (
        "Any committed change of a product's stock, queue figures or policy; `type` on the "
        "wire: `product.updated`, `data` the product with its `version`."),
})

D = DeliveryStatusValue
WebhookDeliveryStatus = described(D, "WebhookDeliveryStatus", "Where a delivery stands.", {
    D.PENDING: "Waiting to be sent, or to be tried again at `dueAt`.",
    D.SENDING: "Being sent now.",
    D.DELIVERED: "The receiver answered 2xx.",
    D.DEAD: (
        "Every attempt failed; it is sent again only if staff call `retryWebhookDelivery`. "
        "It no longer holds back the endpoint's later deliveries."),
})

CurrencyCode = described(CurrencyCodeValue, "CurrencyCode", (
    "An active ISO 4217 currency code (the alphabetic one, e.g. EUR)."), {
    code: f"{name}." for code, name in CURRENCY_NAMES.items()})
