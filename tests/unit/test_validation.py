"""The input rules (api/domain/validation.py) and the column limits they are given
(api/services/inputs.py): every string rule refuses control characters and lone
surrogates, every limit is the column's, and ids are ASCII digits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain import validation
from api.domain.errors import InvalidInput
from api.services import inputs
from api.store.models import BackOrder, OrderLine

PROPERTY = settings(max_examples=200, deadline=None)

RULES: dict[str, Callable[[str], object]] = {
    "text": lambda v: validation.text(v, "field", 200),
    "lookup": lambda v: validation.lookup(v, "field", 200),
    "sku": lambda v: validation.sku(v, "field", 64),
    "email": lambda v: validation.email(v, "field", 254),
    "phone": lambda v: validation.phone(v, "field", 32),
    "row_id": lambda v: validation.row_id(v, "field"),
}
unprintable = st.characters(categories=["Cc", "Cs"])
printable = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=40)


@PROPERTY
@given(st.sampled_from(sorted(RULES)), printable, unprintable, printable)
def test_every_string_rule_refuses_a_control_character_naming_the_field(
        rule: str, before: str, bad: str, after: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        RULES[rule](before + bad + after)

    assert raised.value.field == "field"


@PROPERTY
@given(st.text(st.characters(exclude_categories=["Cc", "Cs", "Zs"]), min_size=1,
               max_size=80), st.integers(1, 80))
def test_a_lookup_takes_up_to_its_column_and_no_more(value: str, maximum: int) -> None:
    if len(value) <= maximum:
        assert validation.lookup(value, "sku", maximum) == value
    else:
        with pytest.raises(InvalidInput, match="at most"):
            validation.lookup(value, "sku", maximum)


@PROPERTY
@given(st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=80),
       st.integers(1, 80))
def test_a_text_is_stripped_and_bounded(value: str, maximum: int) -> None:
    try:
        kept = validation.text(value, "name", maximum, required=False)
    except InvalidInput as exc:
        assert (exc.field, len(value.strip()) > maximum) == ("name", True)
        return
    assert kept == value.strip() and len(kept) <= maximum


def test_a_sku_of_the_column_length_is_taken_and_one_more_is_not() -> None:
    assert inputs.new_sku("A" * inputs.SKU) == "A" * inputs.SKU
    with pytest.raises(InvalidInput) as raised:
        inputs.new_sku("A" * (inputs.SKU + 1), "lines.0.sku")
    assert raised.value.field == "lines.0.sku"


@PROPERTY
@given(st.text(st.characters(categories=["Nd"]), min_size=1, max_size=10))
def test_an_id_is_ascii_digits_only(digits: str) -> None:
    if digits.isascii():
        if 1 <= int(digits) <= validation.MAX_ID:
            assert validation.row_id(digits) == int(digits)
        return
    with pytest.raises(InvalidInput) as raised:
        validation.row_id(digits)
    assert raised.value.field == "id"


@pytest.mark.parametrize("value", ["³", "¹", "\u0661", "12³", "0", "2147483648", "01234567890"])
def test_ids_that_int_refuses_or_the_key_range_cannot_hold_are_invalid(value: str) -> None:
    with pytest.raises(InvalidInput):
        validation.row_id(value)


def test_a_tracking_code_fits_both_columns_it_is_stored_in() -> None:
    assert inputs.TRACKING_CODE <= inputs.column_length(BackOrder, "tracking_code")
    assert inputs.TRACKING_CODE <= inputs.column_length(OrderLine, "tracking_code")
