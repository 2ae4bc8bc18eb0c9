"""Demo data for the embedded default: a few products in each state, a queue, a restock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from api.domain.identity import Actor, Role
from api.domain.model import Channel, Policy
from api.services import catalog, ordering, preferences, restocks
from api.services.clock import utcnow
from api.store.models import Product

STAFF = Actor("demo-staff", Role.STAFF)
CUSTOMERS = ("alice", "bob", "carol")


async def seed(currency: str) -> bool:
    """Add the demo catalogue unless there are products already; True if it did."""
    if await Product.exists():
        return False
    today = utcnow().date()
    await catalog.create_product(STAFF, "MUG-CLASSIC", "Classic mug", Decimal("12.00"),
                                 on_hand=40)
    await catalog.create_product(STAFF, "KB-ERGO", "Ergonomic keyboard", Decimal("149.00"),
                                 on_hand=3, policy=Policy(cap=200, lead_time_days=21))
    await catalog.create_product(
        STAFF, "COURSE-RUST", "Rust course (seat)", Decimal("89.00"), digital=True,
        on_hand=100, policy=Policy(release_date=today + timedelta(days=30), handling_days=0,
                                   pre_order_cap=150, early_bird_size=20),
        early_bird_bonus="a seat at the launch Q&A",
    )
    await catalog.create_product(STAFF, "LAMP-RETRO", "Retro lamp", Decimal("59.00"),
                                 policy=Policy(allow_backorders=False))
    await restocks.schedule_restock(STAFF, "KB-ERGO", 10, today + timedelta(days=10),
                                    note="container from the supplier")
    await restocks.schedule_restock(STAFF, "KB-ERGO", 25, today + timedelta(days=35))
    await preferences.set_preferences(
        Actor("alice", Role.CUSTOMER),
        preferences.PreferencesInput(email="alice@example.com", phone=None, push_target=None,
                                     channels=[Channel.EMAIL], events=[], opted_out=False))
    for index, customer in enumerate(CUSTOMERS):
        await ordering.place_order(
            Actor(customer, Role.CUSTOMER),
            [ordering.LineRequest("KB-ERGO", 2 + index)],
            f"demo-{customer}",
            currency,
        )
    return True
