"""Runs the app under uvicorn, with a graceful stop."""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from api.graphql.view import GraphQLView
from api.settings import Settings

if TYPE_CHECKING:
    from uvicorn._types import ASGIReceiveEvent, ASGISendEvent


class ReceiveQueue:
    """What uvicorn's websocket protocol asks of its receive queue (``put_nowait``, ``get``,
    ``empty``; unbounded, as uvicorn's is) without ``asyncio.Queue``'s four deques and event,
    about 3 KiB a connection: a deque while messages wait, a future while the app waits."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[ASGIReceiveEvent] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter  # several readers share it and recheck
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, holding less for each idle connection: a
    lighter receive queue, and the opening handshake's request and response (their header
    objects, about 2 KiB) are let go once the response is sent, as nothing reads them after."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = ReceiveQueue()  # type: ignore[assignment]

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if self.handshake_complete and message["type"] == "websocket.accept":
            self.request = self.response = None  # type: ignore[assignment]


def websocket_protocol(settings: Settings) -> str | type[asyncio.Protocol]:
    return LeanWebSocketProtocol if settings.websockets == "websockets-sansio" else (
        settings.websockets)


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
    trusted = settings.trusted_proxy_list
    config = uvicorn.Config(app, host=settings.host, port=settings.port, lifespan="on",
                            log_config=None, access_log=False, timeout_graceful_shutdown=10,
                            # X-Forwarded-For only from BACKORDERS_TRUSTED_PROXIES (uvicorn
                            # would trust loopback, or its FORWARDED_ALLOW_IPS, by default)
                            proxy_headers=bool(trusted), forwarded_allow_ips=trusted or [],
                            ws=websocket_protocol(settings),
                            ws_per_message_deflate=settings.ws_per_message_deflate)
    GracefulServer(config, app.state.graphql_view).run()
