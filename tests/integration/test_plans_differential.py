"""Plans answer as the executor does: documents generated from the schema's types, run on
the schema as the app builds it and on one with ``fast_queries`` off, for every role, on
SQLite and PostgreSQL; the whole result (data, errors with their codes and paths) must be
the same. Subscriptions are compared on their first message and on each event after a
change. ``BACKORDERS_DIFFERENTIAL_EXAMPLES`` sets the size (CI keeps it small).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.domain.identity import Actor
from api.graphql.context import Context
from api.graphql.loaders import LazyLoaders
from api.graphql.plans import PLAN_COMPLETIONS, ROOT_PLANS
from api.realtime.events import Event
from api.realtime.hub import Hub
from api.settings import Settings
from api.store.models import BackOrder, Order, OutboxEvent
from tests.documents import Document, documents
from tests.inprocess import executor_schema, schema
from tests.integration import steps
from tests.integration.conftest import ALICE, BOB, STAFF, Run
from tests.integration.operations import ADJUST_STOCK, SCHEDULE_RESTOCK

EXAMPLES = int(os.environ.get("BACKORDERS_DIFFERENTIAL_EXAMPLES", "60"))
ACTORS: list[Actor | None] = [None, ALICE, BOB, STAFF]
SKUS = ["KB", "MUG", "LAMP", "NONE"]


def _normal(result: Any) -> tuple[Any, Any]:
    errors = None
    if result.errors:
        errors = [(e.message if (e.extensions or {}).get("code") != "INTERNAL_ERROR"
                   else "internal", e.path,
                   {k: v for k, v in (e.extensions or {}).items() if k != "errorId"})
                  for e in result.errors]
    return result.data, errors


async def _given(gql: Run) -> list[Any]:
    await steps.product(gql, "KB", on_hand=1)
    await steps.product(gql, "MUG", on_hand=50)
    await steps.product(gql, "LAMP", allowBackorders=False)
    await gql(SCHEDULE_RESTOCK, STAFF, input={"sku": "KB", "quantity": 3,
                                               "expectedDate": "2031-05-01"})
    await steps.order(gql, ALICE, "KB", 2)
    await steps.order(gql, BOB, "KB", 1)
    await steps.order(gql, ALICE, "MUG", 1)
    back_orders = [b.id for b in await BackOrder.all()]
    orders = [o.id for o in await Order.all()]
    return [*back_orders, *(str(i) for i in orders), 9999, "x", "-1", ""]


def _context(actor: Actor | None, hub: Hub | None = None) -> Context:
    return Context(actor, Settings(), loaders=LazyLoaders(), hub=hub)


async def _compare_query(document: Document, actor: Actor | None) -> None:
    ours = await schema.execute(document.query, document.variables, _context(actor))
    theirs = await executor_schema.execute(document.query, document.variables,
                                           _context(actor))
    assert _normal(ours) == _normal(theirs), str(document)


def _planned(counter: Any = PLAN_COMPLETIONS, outcome: str = "planned") -> float:
    return sum(sample.value for metric in counter.collect()
               for sample in metric.samples
               if sample.labels.get("outcome") == outcome and sample.name.endswith("_total"))


@pytest.mark.parametrize("actor", range(len(ACTORS)), ids=["anonymous", "alice", "bob", "staff"])
async def test_generated_queries_answer_as_the_executor(gql: Run, actor: int) -> None:
    ids = await _given(gql)
    cases: list[Document] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(documents(schema._schema, "query", SKUS, ids))
    def collect(document: Document) -> None:
        cases.append(document)

    collect()
    # A public read every role gets an object for, so that the check below does not hang on
    # the draw (an anonymous run can draw only documents whose objects are all null).
    cases.append(Document('{ product(sku: "MUG") { sku name stock { onHand } } }', {}))
    before, roots = _planned(), _planned(ROOT_PLANS, "answered")
    for document in cases:
        await _compare_query(document, ACTORS[actor])
    assert _planned() > before, "no document was answered by a plan"
    assert _planned(ROOT_PLANS, "answered") > roots, "no query was answered by a root plan"


async def _next(stream: Any) -> Any:
    try:
        return _normal(await asyncio.wait_for(anext(stream), 1))
    except (TimeoutError, StopAsyncIteration):
        return "nothing"


async def _publish(hubs: list[Hub], after: int) -> int:
    """The outbox rows written since ``after``, to both hubs, as the relay hands them on."""
    rows = await OutboxEvent.filter(id__gt=after).order_by("id")
    for row in rows:
        event = Event(row.topic, row.key, row.payload)
        for hub in hubs:
            hub.dispatch(event)
    return rows[-1].id if rows else after


@pytest.mark.parametrize("actor", range(len(ACTORS)), ids=["anonymous", "alice", "bob", "staff"])
async def test_generated_subscriptions_answer_as_the_executor(gql: Run, actor: int) -> None:
    ids = await _given(gql)
    cases: list[Document] = []

    @settings(max_examples=max(EXAMPLES // 3, 5), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(documents(schema._schema, "subscription", SKUS, ids), st.integers(1, 3))
    def collect(document: Document, _: int) -> None:
        cases.append(document)

    collect()
    last = await _publish([], 0)
    for n, document in enumerate(cases):
        hubs = [Hub(), Hub()]
        streams = [await s.subscribe(document.query, document.variables,
                                     _context(ACTORS[actor], hub))
                   for s, hub in zip((schema, executor_schema), hubs, strict=True)]
        try:
            if not all(hasattr(s, "__anext__") for s in streams):
                ours, theirs = (_normal(s) for s in streams)
                assert ours == theirs, str(document)
                continue
            # Both streams are waited for at once: one that says nothing costs one wait.
            ours, theirs = await asyncio.gather(*map(_next, streams))
            assert ours == theirs, str(document)
            await gql(ADJUST_STOCK, STAFF, sku="KB", delta=1, reason=f"diff-{n}")
            last = await _publish(hubs, last)
            ours, theirs = await asyncio.gather(*map(_next, streams))
            assert ours == theirs, str(document)
        finally:
            for stream in streams:
                if hasattr(stream, "aclose"):
                    await stream.aclose()
