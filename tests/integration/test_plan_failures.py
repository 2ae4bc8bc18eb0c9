"""A plan that raises is logged with a reference and counted, and the executor answers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from api.domain.model import Availability
from api.graphql import types
from api.graphql.context import Context
from api.graphql.loaders import LazyLoaders
from api.graphql.plans import PLAN_COMPLETIONS
from api.settings import Settings
from tests.inprocess import schema
from tests.integration import steps
from tests.integration.conftest import Run

PRODUCT = '{ product(sku: "KB") { sku availability } }'


def _count(outcome: str) -> float:
    return PLAN_COMPLETIONS.labels("Product", outcome)._value.get()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_plan_that_raises_is_logged_counted_and_answered_by_the_executor(
        gql: Run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    await steps.product(gql, "KB", on_hand=50)
    calls: list[int] = []
    real = types.product_availability

    def flaky(product: Any, today: Any) -> Availability:
        calls.append(1)
        if len(calls) == 1:  # the plan's call
            raise RuntimeError("boom")
        return real(product, today)

    monkeypatch.setattr(types, "product_availability", flaky)
    failed = _count("failed")
    with caplog.at_level(logging.ERROR, logger="backorders.plans"):
        result = await schema.execute(PRODUCT, context_value=Context(
            None, Settings(), loaders=LazyLoaders()))
    assert result.errors is None, result.errors
    assert result.data == {"product": {"sku": "KB", "availability": "IN_STOCK"}}
    assert len(calls) == 2  # the plan's, then the executor's
    assert _count("failed") == failed + 1
    [record] = [r for r in caplog.records if r.name == "backorders.plans"]
    assert "reference" in record.getMessage() and record.exc_info is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_plain_selection_is_planned_and_one_with_arguments_is_not(gql: Run) -> None:
    await steps.product(gql, "KB", on_hand=50)
    context = Context(None, Settings(), loaders=LazyLoaders())
    planned = _count("planned")
    await schema.execute(PRODUCT, context_value=context)
    assert _count("planned") == planned + 1
    await schema.execute('{ product(sku: "KB") { estimatedShipDate(quantity: 2) } }',
                         context_value=Context(None, Settings(), loaders=LazyLoaders()))
    assert _count("planned") == planned + 1
