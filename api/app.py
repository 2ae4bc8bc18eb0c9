"""The ASGI application: ``create_app(settings)`` builds everything, the lifespan opens it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route, WebSocketRoute
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from api.graphql.schema import schema
from api.graphql.view import GraphQLView
from api.middleware import BearerAuth
from api.settings import Settings
from api.store.database import tortoise_config


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    graphql = GraphQLView(schema, settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            yield

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            await get_connection("default").execute_query("SELECT 1")
        except Exception as exc:  # the reason is the answer
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[Middleware(BearerAuth, settings=settings)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
