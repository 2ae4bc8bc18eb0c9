"""The customers' verdict: after a back order ships, its owner may rate the wait, once."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.domain import validation
from api.domain.errors import InvalidInput, InvalidTransition, NotFound
from api.domain.identity import Actor, require_actor
from api.domain.model import Status
from api.services.clock import utcnow
from api.store.models import BackOrder, WaitRating

MAX_COMMENT = 1000
RATED = "RATED"
"""The state a rating moves a back order to, as ``InvalidTransition`` names it."""


async def rate_wait(actor: Actor | None, back_order_id: int, rating: int, comment: str = "",
                    now: datetime | None = None) -> WaitRating:
    """The owner rates a shipped back order's wait from 1 to 5; a second try, or one before
    it shipped, is an ``InvalidTransition``; someone else's is ``NotFound``."""
    signed_in = require_actor(actor)
    if not 1 <= rating <= 5:
        raise InvalidInput("rating", "must be between 1 and 5")
    text = validation.text(comment, "comment", MAX_COMMENT, required=False)
    back_order = await BackOrder.filter(id=back_order_id).first()
    if back_order is None or back_order.customer_id != signed_in.subject:
        raise NotFound("BackOrder", str(back_order_id))
    if back_order.status is not Status.SHIPPED:
        raise InvalidTransition("back order", back_order.status.value, RATED)
    try:
        async with in_transaction():
            return await WaitRating.create(
                back_order_id=back_order.id, customer_id=signed_in.subject, rating=rating,
                comment=text, created_at=now or utcnow())
    except IntegrityError:
        raise InvalidTransition("back order", RATED, RATED) from None
