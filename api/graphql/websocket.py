"""Both websocket protocols as Strawberry speaks them, with our rules on top:

- a message that is not the protocol's shape (not JSON, nested too deeply, ``"payload": 5``,
  an id that is not a short string...) closes the socket with 4400 and says why, on both
  protocols, before Strawberry reads it (it would raise and drop the socket with 1006);
- each operation on a socket without a token counts against the per-address anonymous
  limit of HTTP; a refused one gets the protocol's error, code RATE_LIMITED, and the socket
  stays;
- a socket closes when its token expires (4403, "token expired"): one timer per socket;
- and when a revocation comes to cover its token (4403, "token revoked"), on any instance
  (``api.domain.revocation``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any, cast

import orjson
from graphql import GraphQLFormattedError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonTextMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage as LegacyErrorMessage
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage, StartMessage

from api.graphql.context import Context
from api.ratelimit import rate_limited

BAD_MESSAGE = 4400
FORBIDDEN = 4403
TOKEN_EXPIRED = "token expired"
TOKEN_REVOKED = "token revoked"
MAX_ID_BYTES = 64
"""An operation id Strawberry may echo in a close reason, which stops at 123 bytes."""
TRANSPORT_WS_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})
GRAPHQL_WS_TYPES = frozenset({"connection_init", "connection_terminate", "start", "stop"})
"""graphql-ws ignores any other type, as Strawberry does."""


class BadMessage:
    """A text frame that is not a JSON value (or is nested too deeply to read)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def decode_message(text: str) -> object:
    """The JSON value of a frame, or a ``BadMessage`` saying why there is none. orjson
    refuses nesting over 1,024 levels where the standard ``json`` raises RecursionError."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        deep = "depth" in str(exc) or "recursion" in str(exc).lower()
        return BadMessage("message nested too deeply" if deep else "message is not valid JSON")


def transport_ws_problem(message: object) -> str | None:
    """Why a graphql-transport-ws message is refused (the close reason), or None."""
    if (problem := _envelope_problem(message)) is not None:
        return problem
    assert isinstance(message, dict)
    kind = message["type"]
    if kind not in TRANSPORT_WS_TYPES:
        return "unknown message type"
    if kind == "subscribe":
        return _id_problem(message) or _operation_problem(message.get("payload"))
    if kind == "complete":
        return _id_problem(message)
    return None  # connection_init's payload is Strawberry's to refuse (4400, with a reason)


def graphql_ws_problem(message: object) -> str | None:
    """Why a graphql-ws message is refused (the close reason), or None."""
    if (problem := _envelope_problem(message)) is not None:
        return problem
    assert isinstance(message, dict)
    kind = message["type"]
    if kind == "connection_init" and not isinstance(message.get("payload"), dict | None):
        return "connection_init payload must be an object"
    if kind == "start":
        return _id_problem(message) or _operation_problem(message.get("payload"))
    if kind == "stop":
        return _id_problem(message)
    return None


def _envelope_problem(message: object) -> str | None:
    if isinstance(message, BadMessage):
        return message.reason
    if not isinstance(message, dict):
        return "message must be a JSON object"
    if not isinstance(message.get("type"), str):
        return "message type must be a string"
    return None


def _id_problem(message: Mapping[str, object]) -> str | None:
    given = message.get("id")
    if not isinstance(given, str) or not 0 < len(given.encode(errors="replace")) <= MAX_ID_BYTES:
        return f"id must be a string of 1 to {MAX_ID_BYTES} bytes"
    return None


def _operation_problem(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return "payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "payload.query must be a string"
    for key, kinds in (("variables", dict), ("operationName", str), ("extensions", dict)):
        if not isinstance(payload.get(key), kinds | None):
            return f"payload.{key} must be {'a string' if kinds is str else 'an object'}"
    return None


async def anonymous_refusal(context: Context) -> GraphQLFormattedError | None:
    """The RATE_LIMITED error of an operation on a socket without a token whose address
    asked too often (the same limit and counter as HTTP), else None."""
    if context.actor is not None or context.limiter is None:
        return None
    wait = await context.limiter.check_anonymous(context.address)
    return None if wait is None else cast("GraphQLFormattedError", rate_limited(wait))


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's reader, handing on a ``BadMessage`` where it would raise (and drop the
    socket) or, for graphql-ws, skip the frame: each protocol's handler closes with 4400."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False
                        ) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                yield decode_message(await self.ws.receive_text())
        except KeyError as exc:  # a binary frame
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass


class TokenExpiry:
    """The one timer of a socket with a token: at expiry, stop its operations and close;
    and its watch on the revocations, which closes it as soon as one covers its token (the
    object itself is what the revocations call). Slotted and without closures: every open
    socket with a token holds one."""

    __slots__ = ("close", "closing", "timer", "unwatch")

    def __init__(self) -> None:
        self.timer: asyncio.TimerHandle | None = None
        self.closing: asyncio.Task[None] | None = None
        self.unwatch: Any = None
        self.close: Any = None

    def start(self, expires_at: float | None, close: Any) -> None:
        if expires_at is None:
            return
        loop = asyncio.get_running_loop()
        self.timer = loop.call_at(loop.time() + expires_at - time.time(), self._fire, close)

    def _fire(self, close: Any) -> None:
        self.timer = None
        self.closing = asyncio.create_task(self._close(close))

    @staticmethod
    async def _close(close: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the client closed it just now
            await close()

    def watch(self, context: Context, close: Any) -> None:
        """Close (by ``close``) when a revocation comes to cover the socket's token."""
        if context.revocations is None or context.actor is None:
            return
        self.close = close
        self.unwatch = context.revocations.watch(
            context.actor.subject, context.token_issued_at, self)

    def __call__(self) -> None:  # a revocation covers the token
        self.unwatch = None
        self.stop()
        self.closing = asyncio.create_task(self._close(self.close))

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.unwatch is not None:
            self.unwatch()
            self.unwatch = None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws as Strawberry speaks it, keeping less per connection."""

    expiry: TokenExpiry | None = None

    async def handle_message(self, message: Message) -> None:
        if (problem := transport_ws_problem(message)) is not None:
            await self.websocket.close(code=BAD_MESSAGE, reason=problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if not self.connection_timed_out:
            # Cancelled above. Kept, the finished task would hold its CancelledError, whose
            # traceback holds the timer's frames (about 1.5 KiB) for the connection's life.
            self.connection_init_timeout_task = None
        if self.connection_acknowledged and self.context.token_expires_at is not None:
            self.expiry = TokenExpiry()
            self.expiry.start(self.context.token_expires_at, self._token_expired)
            self.expiry.watch(self.context, self._token_revoked)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations and (
                refusal := await anonymous_refusal(self.context)) is not None:
            await self.send_message(ErrorMessage(id=message["id"], type="error",
                                                 payload=[refusal]))
            return
        await super().handle_subscribe(message)

    async def _token_expired(self) -> None:
        await self._refuse(TOKEN_EXPIRED)

    async def _token_revoked(self) -> None:
        await self._refuse(TOKEN_REVOKED)

    async def _refuse(self, reason: str) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await self.websocket.close(code=FORBIDDEN, reason=reason)

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.stop()
        await super().shutdown()


class GraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (the legacy protocol) as Strawberry speaks it, with our rules."""

    expiry: TokenExpiry | None = None

    async def handle_message(self, message: OperationMessage) -> None:
        if (problem := graphql_ws_problem(message)) is not None:
            await self.websocket.close(code=BAD_MESSAGE, reason=problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: LegacyInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.context.token_expires_at is not None:
            self.expiry = TokenExpiry()
            self.expiry.start(self.context.token_expires_at, self._token_expired)
            self.expiry.watch(self.context, self._token_revoked)

    async def handle_start(self, message: StartMessage) -> None:
        if self.connection_acknowledged and (
                refusal := await anonymous_refusal(self.context)) is not None:
            await self.send_message(LegacyErrorMessage(type="error", id=message["id"],
                                                       payload=refusal))
            return
        await super().handle_start(message)

    async def _token_expired(self) -> None:
        await self._refuse(TOKEN_EXPIRED)

    async def _token_revoked(self) -> None:
        await self._refuse(TOKEN_REVOKED)

    async def _refuse(self, reason: str) -> None:
        if self.keep_alive_task is not None:
            self.keep_alive_task.cancel()
        await self.cleanup()
        await self.websocket.close(code=FORBIDDEN, reason=reason)

    async def cleanup(self) -> None:
        if self.expiry is not None:
            self.expiry.stop()
        await super().cleanup()
