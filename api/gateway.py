"""The one ASGI layer every HTTP request passes, in the order that matters:

1. a request id (``X-Request-ID`` kept when well formed, else made; echoed) and, at the
   end, the request's log line;
2. CORS, only for a request that names an ``Origin`` (without one CORS has nothing to do);
3. the body limit (413 before anything reads a body over it, also for chunked bodies);
4. the rate limit for requests to /graphql without a token, per address (429);
5. the bearer token (401 when it is bad; the actor goes in ``scope["state"]``).

Then a POST to /graphql goes straight to the GraphQL endpoint, anything else to the router.
One layer instead of five: the headers are read once, and a response passes one wrapper.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import InvalidToken, bearer, verify
from api.domain.revocation import Revocations
from api.logs import request_log
from api.ratelimit import RateLimits, too_many
from api.settings import Settings

VALID_ID = re.compile(r"^[\w.-]{1,64}$", re.ASCII)
GRAPHQL = "/graphql"
HEADERS = "backorders.headers"
"""Scope key of what the first pass over the headers found: (authorization, length), the
length None when the body must be counted as it arrives."""
FIRST_HEADERS = "backorders.first_headers"
"""Scope key of the request's headers, the first value of each name (read once here)."""


def first_headers(scope: Scope) -> dict[bytes, bytes]:
    """The first value of each header, as Starlette's ``Headers.get`` answers."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        found.setdefault(name, value)
    return found


class Gateway:
    def __init__(self, app: ASGIApp, graphql: ASGIApp, settings: Settings,
                 limits: RateLimits, revocations: Revocations | None = None) -> None:
        self.app = app
        self.revocations = revocations
        self.graphql = graphql
        self.settings = settings
        self.limits = limits
        self.max_body = settings.max_body_bytes
        self.cors = CORSMiddleware(self._guarded, allow_origins=settings.cors_origins,
                                   allow_methods=["GET", "POST"],
                                   allow_headers=["Authorization", "Content-Type", "Accept"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        first = scope[FIRST_HEADERS] = first_headers(scope)
        authorization, given = first.get(b"authorization"), first.get(b"x-request-id")
        # A server may take Transfer-Encoding over a Content-Length: then count the body.
        length = None if b"transfer-encoding" in first else first.get(b"content-length")
        request_id = given.decode("latin-1") if given is not None else ""
        if not VALID_ID.match(request_id):
            request_id = os.urandom(16).hex()
        echoed = (b"x-request-id", request_id.encode("latin-1"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        scope[HEADERS] = (authorization, length)
        status = 500
        start = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        try:
            if b"origin" not in first:
                await self._guarded(scope, receive, sending)
            else:
                await self.cors(scope, receive, sending)
        finally:
            actor = state.get("actor")
            request_log(scope["method"], scope["path"], status, {
                "request_id": request_id, "method": scope["method"], "path": scope["path"],
                "status": status, "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "operation": state.get("operation"),
                "role": actor.role.value.lower() if actor else "anonymous",
            })

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization, length = scope[HEADERS]
        if length is None or not length.isdigit():  # chunked: count what arrives
            await self._counted(scope, receive, send, authorization)
        elif int(length) > self.max_body:
            await _too_large(self.max_body)(scope, receive, send)
        else:  # the server reads no more than a declared length: nothing to count
            await self._checked(scope, receive, send, authorization)

    async def _counted(self, scope: Scope, receive: Receive, send: Send,
                       authorization: bytes | None) -> None:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise _BodyTooLarge
            return message

        try:
            await self._checked(scope, counted, send, authorization)
        except _BodyTooLarge:
            await _too_large(self.max_body)(scope, receive, send)

    async def _checked(self, scope: Scope, receive: Receive, send: Send,
                       authorization: bytes | None) -> None:
        path = scope["path"]
        if not authorization:
            actor = None
            if path == GRAPHQL:
                client = scope.get("client")
                wait = await self.limits.check_anonymous(client[0] if client else "unknown")
                if wait is not None:
                    await too_many(wait)(scope, receive, send)
                    return
        else:
            try:
                token = bearer(authorization.decode("latin-1"))
                actor = verify(token, self.settings, self.revocations) if token else None
            except InvalidToken as exc:
                await _unauthenticated(str(exc))(scope, receive, send)
                return
        scope["state"]["actor"] = actor
        if path == GRAPHQL and scope["method"] == "POST":
            await self.graphql(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return _error(f"request body over {limit} bytes", "BODY_TOO_LARGE", 413)


def _unauthenticated(reason: str) -> JSONResponse:
    """401 with the reason in our words (``auth.reason``), never the JWT library's."""
    return _error(reason, "UNAUTHENTICATED", 401,
                  {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _error(message: str, code: str, status: int,
           headers: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status, headers=headers)
