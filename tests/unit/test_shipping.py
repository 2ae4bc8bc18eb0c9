"""The rules of shipping in parts (``api/domain/shipping.py``), with hypothesis: a part is
what is set aside and not shipped yet, never more; an order that ships together ships no part
while a back order of it waits; a cancellation refunds exactly the units that did not ship;
a simulated back order never ships more than was set aside for it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain.errors import InvalidTransition
from api.domain.model import Shipping, Status
from api.domain.money import charge
from api.domain.payments import on_cancellation
from api.domain.shipping import check_partial_shipment, check_ship_together
from api.domain.status import status_for_allocation

prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("9999.99"), places=2)


@given(st.integers(2, 50), st.data())
def test_a_part_is_what_is_set_aside_and_not_shipped(quantity: int, data: st.DataObject
                                                     ) -> None:
    allocated = data.draw(st.integers(1, quantity - 1))
    shipped = data.draw(st.integers(0, allocated))
    status = status_for_allocation(quantity, allocated)
    assert status is Status.PARTIALLY_ALLOCATED
    if shipped == allocated:
        with pytest.raises(InvalidTransition, match="NOTHING_NEW_SET_ASIDE"):
            check_partial_shipment(status, allocated, shipped, Shipping.SHIP_AS_ALLOCATED)
    else:
        units = check_partial_shipment(status, allocated, shipped, Shipping.SHIP_AS_ALLOCATED)
        assert units == allocated - shipped
        assert shipped + units < quantity  # the rest still waits
    with pytest.raises(InvalidTransition, match="SHIPS_WITH_ITS_ORDER"):
        check_partial_shipment(status, allocated, shipped, Shipping.SHIP_TOGETHER)


@pytest.mark.parametrize("status", [Status.WAITING, Status.ALLOCATED, Status.SHIPPED,
                                    Status.CANCELLED])
def test_only_a_partly_allocated_back_order_ships_in_part(status: Status) -> None:
    with pytest.raises(InvalidTransition, match=f"from {status.value} to PARTIALLY_SHIPPED"):
        check_partial_shipment(status, 1, 0, Shipping.SHIP_AS_ALLOCATED)


@given(st.lists(st.sampled_from(list(Status)), max_size=6), st.sampled_from(list(Shipping)))
def test_together_waits_for_every_back_order(others: list[Status], shipping: Shipping
                                             ) -> None:
    waiting = any(s in (Status.WAITING, Status.PARTIALLY_ALLOCATED) for s in others)
    if shipping is Shipping.SHIP_TOGETHER and waiting:
        with pytest.raises(InvalidTransition, match="SHIPS_WITH_ITS_ORDER"):
            check_ship_together(shipping, others)
    else:
        check_ship_together(shipping, others)


@given(prices, st.integers(1, 1000), st.data())
def test_a_cancellation_refunds_what_did_not_ship(price: Decimal, quantity: int,
                                                  data: st.DataObject) -> None:
    shipped = data.draw(st.integers(0, quantity))
    refund = on_cancellation(price, shipped, charge(price, quantity), Decimal(0)).refunded
    assert refund + charge(price, shipped) == charge(price, quantity)
    assert Decimal(0) <= refund <= charge(price, quantity)


@given(st.integers(1, 20), st.lists(st.tuples(st.sampled_from(["arrive", "ship"]),
                                              st.integers(1, 5)), max_size=30))
def test_a_back_order_never_ships_more_than_was_set_aside(quantity: int,
                                                          steps: list[tuple[str, int]]
                                                          ) -> None:
    allocated = shipped = 0
    for step, units in steps:
        status = status_for_allocation(quantity, allocated)
        if step == "arrive":
            allocated = min(quantity, allocated + units)
        elif status is Status.PARTIALLY_ALLOCATED and allocated > shipped:
            shipped += check_partial_shipment(status, allocated, shipped,
                                              Shipping.SHIP_AS_ALLOCATED)
        assert 0 <= shipped <= allocated <= quantity
        assert shipped < quantity or allocated == quantity
