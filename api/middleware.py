"""Reads the bearer token once per HTTP request; a bad token is refused with 401."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import InvalidToken, bearer, verify
from api.settings import Settings


class BearerAuth:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            token = bearer(Headers(scope=scope).get("authorization"))
            actor = verify(token, self.settings) if token else None
        except InvalidToken as exc:
            response = JSONResponse(
                {"errors": [{"message": f"invalid bearer token: {exc}",
                             "extensions": {"code": "UNAUTHENTICATED"}}]},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)
