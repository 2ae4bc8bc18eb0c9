"""A document that does not parse, or is over the token limit, is answered with its error on
every transport: over HTTP, and as a subscription's first result (once it ended the stream
with nothing said)."""

from __future__ import annotations

import pytest

from api.graphql.context import Context
from api.graphql.loaders import LazyLoaders
from api.realtime.hub import Hub
from api.settings import Settings
from tests.inprocess import executor_schema, schema

TOO_MANY_TOKENS = ("subscription { productStockChanged(sku: \"KB\") { "
                   + " ".join(f"a{i}: sku" for i in range(3000)) + " } }")
CASES = [("subscription { productStockChanged(sku: ", "Syntax Error: Unexpected <EOF>."),
         (TOO_MANY_TOKENS, "more than 5000 tokens")]


@pytest.mark.parametrize(("document", "message"), CASES)
@pytest.mark.parametrize("which", [schema, executor_schema], ids=["plans", "executor"])
async def test_a_bad_document_is_answered_with_its_error(document: str, message: str,
                                                          which: object) -> None:
    context = Context(None, Settings(), loaders=LazyLoaders(), hub=Hub())
    stream = await which.subscribe(document, context_value=context)  # type: ignore[attr-defined]
    [first] = [result async for result in stream]
    assert first.data is None and message in first.errors[0].message
    over_http = await which.execute(document.replace("subscription", "query", 1),  # type: ignore[attr-defined]
                                    context_value=context)
    assert over_http.errors and message in over_http.errors[0].message
