"""The websocket's pure rules: which messages each protocol refuses and why, reading a frame,
the RATE_LIMITED error, and a token's expiry."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.auth import mint, verified
from api.domain.identity import Actor, Role
from api.graphql.websocket import (
    BadMessage,
    decode_message,
    graphql_ws_problem,
    transport_ws_problem,
)
from api.ratelimit import rate_limited
from api.settings import Settings

QUERY = "subscription { productStockChanged(sku: \"KB\") { sku } }"
CLOSE_REASON_BYTES = 123

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=20)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["connection_init", "subscribe", "start", "complete", "stop",
                              "ping", "zap"]) | json_values},
    optional={"id": json_values, "payload": json_values | st.fixed_dictionaries(
        {"query": json_values}, optional={"variables": json_values,
                                          "operationName": json_values})})


@pytest.mark.parametrize(("message", "reason"), [
    (5, "message must be a JSON object"),
    ([], "message must be a JSON object"),
    ({}, "message type must be a string"),
    ({"type": "next"}, "unknown message type"),
    ({"type": "subscribe", "id": "1", "payload": 5}, "payload must be an object"),
    ({"type": "subscribe", "id": "1"}, "payload must be an object"),
    ({"type": "subscribe", "id": 1, "payload": {"query": QUERY}},
     "id must be a string of 1 to 64 bytes"),
    ({"type": "subscribe", "id": "", "payload": {"query": QUERY}},
     "id must be a string of 1 to 64 bytes"),
    ({"type": "subscribe", "id": "é" * 33, "payload": {"query": QUERY}},
     "id must be a string of 1 to 64 bytes"),
    ({"type": "subscribe", "id": "1", "payload": {"query": ["{ a }"]}},
     "payload.query must be a string"),
    ({"type": "subscribe", "id": "1", "payload": {"query": QUERY, "operationName": 3}},
     "payload.operationName must be a string"),
    ({"type": "subscribe", "id": "1", "payload": {"query": QUERY, "extensions": "x"}},
     "payload.extensions must be an object"),
    ({"type": "complete"}, "id must be a string of 1 to 64 bytes"),
    (BadMessage("message nested too deeply"), "message nested too deeply"),
])
def test_graphql_transport_ws_refuses_a_message_not_of_its_shape(message: Any,
                                                                 reason: str) -> None:
    assert transport_ws_problem(message) == reason


@pytest.mark.parametrize("message", [
    {"type": "connection_init"},
    {"type": "connection_init", "payload": {"Authorization": "Bearer x"}},
    {"type": "ping"}, {"type": "pong", "payload": {"at": 1}},
    {"type": "subscribe", "id": "a" * 64, "payload": {"query": QUERY}},
    {"type": "subscribe", "id": "1", "payload": {"query": QUERY, "variables": None,
                                                 "operationName": None, "extensions": {}}},
    {"type": "complete", "id": "1"},
])
def test_graphql_transport_ws_takes_the_messages_of_the_protocol(message: Any) -> None:
    assert transport_ws_problem(message) is None


@pytest.mark.parametrize(("message", "reason"), [
    (5, "message must be a JSON object"),
    ({"type": None}, "message type must be a string"),
    ({"type": "connection_init", "payload": 5}, "connection_init payload must be an object"),
    ({"type": "start", "id": "1", "payload": 5}, "payload must be an object"),
    ({"type": "start", "id": "1", "payload": {"query": QUERY, "variables": [1]}},
     "payload.variables must be an object"),
    ({"type": "stop", "id": ["1"]}, "id must be a string of 1 to 64 bytes"),
])
def test_graphql_ws_refuses_a_message_not_of_its_shape(message: Any, reason: str) -> None:
    assert graphql_ws_problem(message) == reason


@pytest.mark.parametrize("message", [
    {"type": "connection_init"}, {"type": "connection_init", "payload": None},
    {"type": "start", "id": "1", "payload": {"query": QUERY}}, {"type": "stop", "id": "1"},
    {"type": "connection_terminate"},
    {"type": "something-new"},  # ignored, as Strawberry always did
])
def test_graphql_ws_takes_the_messages_of_the_protocol(message: Any) -> None:
    assert graphql_ws_problem(message) is None


@given(json_values | messages)
def test_any_message_gets_an_answer_that_fits_a_close_frame(message: object) -> None:
    for problem in (transport_ws_problem(message), graphql_ws_problem(message)):
        assert problem is None or 0 < len(problem.encode()) <= CLOSE_REASON_BYTES


def test_a_frame_is_read_as_json_or_said_to_be_unreadable() -> None:
    assert decode_message('{"type": "ping"}') == {"type": "ping"}
    deep = decode_message("[" * 5000 + "]" * 5000)
    assert isinstance(deep, BadMessage) and deep.reason == "message nested too deeply"
    broken = decode_message("{not json")
    assert isinstance(broken, BadMessage) and broken.reason == "message is not valid JSON"


@pytest.mark.parametrize(("wait", "seconds"), [(0.2, 1), (1.0, 1), (1.01, 2), (59.5, 60)])
def test_a_rate_limited_error_says_when_to_retry_in_whole_seconds(wait: float,
                                                                  seconds: int) -> None:
    assert rate_limited(wait) == {
        "message": f"too many requests: retry in {seconds} s",
        "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": seconds}}


def test_a_verified_token_says_when_it_expires() -> None:
    settings = Settings(jwt_secret="unit-secret-that-is-long-enough-for-hs256")
    token = mint(settings, "alice", Role.CUSTOMER, timedelta(minutes=5))
    actor, expires_at, issued_at = verified(token, settings)
    assert actor == Actor(subject="alice", role=Role.CUSTOMER)
    assert time.time() + 290 < expires_at <= time.time() + 300
    assert verified(token, settings) == (actor, expires_at, issued_at)  # remembered
