"""Subscriptions over HTTP, as Strawberry speaks them, with the websockets' rules.

Two protocols besides the websockets, chosen by the request's ``Accept``:

- Apollo's multipart subscriptions (``multipart/mixed;subscriptionSpec="1.0"``), which
  Apollo Client, Apollo iOS and Apollo Kotlin speak over their HTTP links: each event is a
  part ``{"payload": ...}``, a heartbeat ``{}`` every 5 s;
- GraphQL over Server-Sent Events (``text/event-stream``, the ``graphql-sse`` protocol's
  distinct connections mode): ``event: next`` per event, ``event: complete`` at the end,
  a ``: ping`` comment every 15 s.

The operation goes through ``schema.stream`` (the ``Operations`` extension: the token,
depth, alias and cost limits), the subscription's resolver is the websockets' (ordering,
``sinceVersion``), the token is the gateway's (``scope["state"]["actor"]``; a bad one is a
401 before anything runs) and a request without one counts against the anonymous limit
there, once per operation as on a websocket. What this module adds: a stream with a token
ends when the token expires or a revocation comes to cover it, with an ``UNAUTHENTICATED``
error (``token expired`` / ``token revoked``) as the last event, as a websocket closes
with 4403. A subscription without a streaming ``Accept`` is still refused
(``SUBSCRIPTION_NEEDS_WEBSOCKET``, saying which ways there are).

A websocket runs at most ``max_subscriptions_per_connection`` operations; over HTTP each
operation is its own request, so the same bound is kept per client instead
(``StreamCounts``: a token's subject, or the address of a request without one): one stream
more is answered 429 ``TOO_MANY_SUBSCRIPTIONS`` before anything is sent, and a stream's place
is given back when its response ends, however it ends (the client gone, the token expired,
the server stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)

from api.auth import InvalidToken, bearer, verified
from api.domain.identity import Actor
from api.graphql.websocket import TOKEN_EXPIRED, TOKEN_REVOKED

SUBSCRIPTION_PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL,
                          MULTIPART_SUBSCRIPTION_PROTOCOL, GRAPHQL_SSE_PROTOCOL)
STREAM_ACCEPTS = re.compile(r"multipart/mixed|text/event-stream", re.IGNORECASE)
"""An ``Accept`` that may ask for a stream: such a request takes Strawberry's way."""

TextStream = Callable[[], AsyncGenerator[str, None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"


class StreamCounts:
    """Streams each client holds open on this instance, bounded by ``limit``."""

    __slots__ = ("limit", "open")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}

    @staticmethod
    def client(actor: Actor | None, address: str) -> str:
        return f"subject:{actor.subject}" if actor is not None else f"address:{address}"

    def take(self, client: str) -> bool:
        """One place for ``client``, or False when it holds ``limit`` already."""
        held = self.open.get(client, 0)
        if held >= self.limit:
            return False
        self.open[client] = held + 1
        return True

    def give_back(self, client: str) -> None:
        held = self.open.get(client, 0) - 1
        if held > 0:
            self.open[client] = held
        else:
            self.open.pop(client, None)

    def holding(self, response: ASGIApp, client: str) -> ASGIApp:
        """``response``, giving ``client``'s place back when it has run (or failed)."""

        async def counted(scope: Any, receive: Any, send: Any) -> None:
            try:
                await response(scope, receive, send)
            finally:
                self.give_back(client)

        return counted


class StreamEnd:
    """Why a stream must end (set once), by the token's expiry or a revocation."""

    __slots__ = ("event", "reason", "timer", "unwatch")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.reason = ""
        self.timer: asyncio.TimerHandle | None = None
        self.unwatch: Callable[[], None] | None = None

    def end(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.unwatch is not None:
            self.unwatch()
        self.timer = self.unwatch = None


def stream_end(request: Any, view: Any) -> StreamEnd | None:
    """The expiry and revocation watch of the request's token, or None without one."""
    try:
        token = bearer(request.headers.get("authorization"))
        if not token:
            return None
        known = verified(token, view.settings, view.revocations)
    except InvalidToken:  # the gateway let it through a moment ago: it just ran out
        ended = StreamEnd()
        ended.end(TOKEN_EXPIRED)
        return ended
    ended = StreamEnd()
    loop = asyncio.get_running_loop()
    ended.timer = loop.call_at(loop.time() + known.expires_at - time.time(),
                               ended.end, TOKEN_EXPIRED)
    if view.revocations is not None:
        ended.unwatch = view.revocations.watch(known.actor.subject, known.issued_at,
                                               lambda: ended.end(TOKEN_REVOKED))
    return ended


def last_words(transport: HTTPStreamTransport | None, reason: str,
               encode: Callable[[object], str]) -> str:
    """The protocol's error event for ``reason``, then its end."""
    error = {"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}
    if isinstance(transport, MultipartSubscriptionTransport):
        # Apollo's multipart spec: a transport error is a part with a null payload.
        return transport.encode_multipart_data({"payload": None, "errors": [error]},
                                               encode) + transport.encode_complete()
    if transport is None:
        return ""
    return transport.encode_next({"errors": [error]}, encode) + transport.encode_complete()


def guarded_stream(stream: TextStream, request: Any, transport: HTTPStreamTransport | None,
                   view: Any) -> TextStream:
    """``stream`` that stops, with the protocol's error, when the token may no longer read."""

    async def guarded() -> AsyncGenerator[str, None]:
        ended = stream_end(request, view)
        if ended is None:
            async for chunk in stream():
                yield chunk
            return
        inner = stream()
        waiting = asyncio.ensure_future(ended.event.wait())
        try:
            while not ended.event.is_set():
                step = asyncio.ensure_future(anext(inner))
                await asyncio.wait((step, waiting), return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    step.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await step
                    break
                try:
                    chunk = step.result()
                except StopAsyncIteration:
                    return
                yield chunk
            yield last_words(transport, ended.reason, view.encode_json_string)
        finally:
            ended.stop()
            waiting.cancel()
            with contextlib.suppress(Exception):
                await inner.aclose()

    return guarded
