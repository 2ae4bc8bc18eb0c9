"""Runs the app under uvicorn, with a graceful stop."""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette

from api.graphql.view import GraphQLView
from api.settings import Settings


class GracefulServer(uvicorn.Server):
    """On SIGTERM: stop taking connections, tell websocket clients to go elsewhere (close
    1001, "going away"), let requests in flight finish, then stop the background work."""

    def __init__(self, config: uvicorn.Config, view: GraphQLView) -> None:
        super().__init__(config)
        self.view = view

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.view.close_websockets()
        await super().shutdown(sockets)


def serve(app: Starlette, settings: Settings) -> None:
    config = uvicorn.Config(app, host=settings.host, port=settings.port, lifespan="on",
                            log_config=None, access_log=False, timeout_graceful_shutdown=10,
                            ws=settings.websockets)
    GracefulServer(config, app.state.graphql_view).run()
