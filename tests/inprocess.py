"""Schemas for in-process tests: as the app builds it (plans on), and executor only."""

from __future__ import annotations

from api.graphql.schema import build_schema
from api.settings import Settings

schema = build_schema(Settings(environment="development"))
executor_schema = build_schema(Settings(environment="development", fast_queries=False))
