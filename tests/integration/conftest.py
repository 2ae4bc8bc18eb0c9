"""Run GraphQL operations in-process, as a given actor, against the test database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from api.domain.identity import Actor, Role
from api.graphql.context import Context
from api.settings import Settings
from tests.inprocess import schema

STAFF = Actor("staff-1", Role.STAFF)
ALICE = Actor("alice", Role.CUSTOMER)
BOB = Actor("bob", Role.CUSTOMER)

Run = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def gql(db: str) -> Run:
    """``await gql(QUERY, actor, **variables)`` returns ``data``; GraphQL errors fail the test."""
    settings = Settings()

    async def run(query: str, actor: Actor | None = None, **variables: Any) -> dict[str, Any]:
        result = await schema.execute(
            query, variable_values=variables, context_value=Context(actor, settings)
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    return run


@pytest.fixture
def gql_result(db: str) -> Callable[..., Awaitable[Any]]:
    """Like ``gql`` but returns the whole result, errors included."""
    settings = Settings()

    async def run(query: str, actor: Actor | None = None, **variables: Any) -> Any:
        return await schema.execute(
            query, variable_values=variables, context_value=Context(actor, settings)
        )

    return run


class QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip().upper()
        if message.startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.queries.append(message)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """Counts the SQL statements Tortoise sends while the block runs."""
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)
