"""The ISO 4217 list: every code has its name, and the shop's currency must be one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.domain.currencies import NAMES, CurrencyCode
from api.settings import Settings


def test_every_code_has_its_name_and_nothing_else_does() -> None:
    assert list(NAMES) == list(CurrencyCode)
    assert all(code.value == code.name and len(code.value) == 3 for code in CurrencyCode)
    assert NAMES[CurrencyCode.EUR] == "Euro" and NAMES[CurrencyCode.USD] == "US Dollar"


def test_codes_that_are_no_money_a_shop_prices_in_are_left_out() -> None:
    assert {"XAU", "XTS", "XXX", "XDR"}.isdisjoint(CurrencyCode.__members__)


@pytest.mark.parametrize("code", ["EUR", "JPY", "CHF"])
def test_the_shop_currency_is_an_iso_4217_code(code: str) -> None:
    assert Settings(currency=code).currency == code


@pytest.mark.parametrize("code", ["ABC", "usd", "XAU"])
def test_a_currency_that_is_not_one_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Settings(currency=code)
