"""Migration 0020's statistics are on the very expressions the demand report groups by:
PostgreSQL uses expression statistics only for an identical expression."""

from __future__ import annotations

import importlib

import pytest

from api.domain.demand import Bucket
from api.store.demand import _bucket

statistics = importlib.import_module("api.store.migrations.0020_demand_statistics")


@pytest.mark.parametrize("bucket", list(Bucket))
def test_each_bucket_of_the_report_has_its_statistics(bucket: Bucket) -> None:
    unit = bucket.value.lower()
    assert unit in statistics.UNITS
    assert _bucket(True, bucket, "placed_at") == statistics.bucket(unit)


def test_both_tables_the_report_groups_are_covered() -> None:
    assert set(statistics.TABLES) == {"customer_order", "back_order"}
