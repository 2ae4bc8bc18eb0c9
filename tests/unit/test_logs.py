"""What the log says of an operation's errors, and what the redactor takes out.

A client's error (a document that does not validate, a typed domain error) is one INFO line
without a traceback; only an unexpected error is an ERROR, with its traceback. The
redactor removes tokens, not the word "bearer" in a sentence.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected

from api import logs
from api.domain.identity import Actor, Role
from api.graphql.context import Context
from api.logs import redact
from api.settings import Settings
from tests.inprocess import schema

SETTINGS = Settings(jwt_secret="l" * 40)


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure(SETTINGS)
    stream = io.StringIO()
    logs.request_log.handler.setStream(stream)  # type: ignore[union-attr]
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)
    logs.request_log.handler = None
    logs.GRAPHQL_ERRORS.filters.clear()
    logs.WEBSOCKET_TASKS.filters.clear()


async def _run(document: str, actor: Actor | None = None) -> None:
    await schema.execute(document, context_value=Context(actor, SETTINGS))


@pytest.mark.parametrize(("document", "actor", "code"), [
    ('{ product(sku: "a\\u0000") { sku } }', None, "INVALID_INPUT"),
    ('{ backOrder(id: "³") { id } }', Actor("alice", Role.CUSTOMER), "INVALID_INPUT"),
    ("{ notifications { totalCount } }", None, "FORBIDDEN"),
    ("{ productz { totalCount } }", None, "INVALID_REQUEST"),
], ids=["invalid input", "non-ascii id", "forbidden", "invalid document"])
async def test_a_client_error_is_one_info_line_without_a_traceback(
        log: io.StringIO, document: str, actor: Actor | None, code: str) -> None:
    await _run(document, actor)

    [line] = log.getvalue().splitlines()
    assert " INFO " in line and "strawberry.execution" in line and code in line
    assert "Traceback" not in log.getvalue()


async def test_an_unexpected_error_is_an_error_with_its_traceback(log: io.StringIO) -> None:
    await _run('{ product(sku: "KB") { sku } }')  # no database here: the read fails

    text = log.getvalue()
    assert " ERROR   backorders.graphql: unexpected error " in text
    assert "Traceback" in text and " INFO " not in text


def _send_fails(error: Exception) -> None:
    """What Strawberry's graphql-transport-ws handler does when sending an event fails
    (``handle_task_exception``): log it on its task logger, with the exception."""
    try:
        raise error
    except Exception as exc:
        logging.getLogger("strawberry.ws.task").exception(
            "Exception in worker task", exc_info=exc)


def _caused_by_a_disconnect() -> Exception:
    error = OSError("send on a closed transport")
    error.__cause__ = WebSocketDisconnect(1006)
    return error


@pytest.mark.parametrize("error", [WebSocketDisconnected(), _caused_by_a_disconnect()],
                         ids=["strawberry's", "caused by starlette's"])
def test_a_client_gone_during_a_send_is_an_info_line(log: io.StringIO,
                                                     error: Exception) -> None:
    _send_fails(error)

    [line] = log.getvalue().splitlines()
    assert " INFO " in line and "websocket closed by the client" in line


def test_another_failure_in_a_websocket_task_stays_an_error(log: io.StringIO) -> None:
    _send_fails(RuntimeError("a bug"))

    assert " ERROR " in log.getvalue() and "Traceback" in log.getvalue()


def test_a_sentence_about_a_bearer_token_is_left_as_it_is() -> None:
    message = "sign in first: this needs a bearer token."
    assert redact(message) == message


@given(st.text(st.sampled_from("abcXYZ019-._~+/="), min_size=1, max_size=40))
def test_a_token_after_bearer_is_removed_unless_it_is_a_short_word(token: str) -> None:
    cleaned = redact(f"Authorization: Bearer {token} sent")
    # A word: under 16 letters, at most dots at its end (as a sentence ends).
    word = len(token) < 16 and (token.rstrip(".").isalpha() or set(token) == {"."})
    if word:
        assert cleaned == f"Authorization: Bearer {token} sent"
    else:
        assert cleaned == "Authorization: Bearer [redacted] sent"
