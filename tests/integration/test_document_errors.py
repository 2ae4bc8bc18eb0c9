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


MISSPELT = ['{ product(sku: "KB") { nam } }', '{ produc(sku: "KB") { name } }',
            'query($x: Availabilty) { products(availability: [$x]) { edges { cursor } } }',
            '{ products(availability: [IN_STOK]) { edges { cursor } } }',
            '{ product(skew: "KB") { name } }']


@pytest.mark.parametrize("document", MISSPELT)
async def test_without_introspection_no_error_suggests_a_name(document: str) -> None:
    from api.graphql.schema import build_schema

    answers = []
    for introspection in (True, False):
        settings = Settings(introspection=introspection)
        result = await build_schema(settings).execute(
            document, context_value=Context(None, settings, loaders=LazyLoaders()))
        assert result.errors and all(e.extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
                                     for e in result.errors)
        answers.append(" ".join(e.message for e in result.errors))
    with_names, without = answers
    assert "Did you mean" in with_names  # the case is one that suggests
    assert "Did you mean" not in without and "IN_STOCK" not in without, without
