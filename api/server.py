"""Runs the app under uvicorn, with a graceful stop, in one process or in several."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from api.settings import Settings

log = logging.getLogger("backorders.server")

if TYPE_CHECKING:
    from uvicorn._types import ASGIReceiveEvent, ASGISendEvent

    # Not at run time: a worker process imports this module before it answers the
    # supervisor's first health check, and the app's modules take a second or more.
    from api.graphql.view import GraphQLView


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


MAX_HEAD_BYTES = 64 * 1024
"""A request's line and headers together (a bearer token is about 1 KiB; nginx allows 32)."""
MAX_HEADERS = 100
HEAD_SECONDS = 10.0
"""From a connection's first byte (or a request's) to the end of its headers."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, which bounds neither the size, the count nor the time of
    a request's headers (httptools keeps a header until its end, however long): over
    ``MAX_HEAD_BYTES`` or ``MAX_HEADERS`` it answers 431, past ``HEAD_SECONDS`` 408, and
    closes the connection. Memory per unfinished head: at most the limit and one read."""

    _head: int | None = None  # bytes of the head being read; None while not reading one
    _head_timer: asyncio.TimerHandle | None = None
    _headers = 0
    _refusal: bytes | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._begin_head()
        self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head is not None:
            self._head += len(data)
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_too_slow)
        super().data_received(data)
        if self._head is not None and self._head > MAX_HEAD_BYTES and (
                not self.transport.is_closing()):
            self._refuse(431, f"request headers over {MAX_HEAD_BYTES} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        if self._headers > MAX_HEADERS:
            self._refusal = _refusal(431, f"over {MAX_HEADERS} request headers")
            raise _HeadRefused  # httptools stops; uvicorn answers send_400_response
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._end_head()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._begin_head()  # a pipelined or kept-alive request's head comes next

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
            return
        self._end_head()
        self.transport.write(self._refusal)
        self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        self._refusal = _refusal(status, message)
        self.send_400_response(message)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._head is not None and not self.transport.is_closing():
            self._refuse(408, f"request headers not received in {HEAD_SECONDS:g} s")

    def _begin_head(self) -> None:
        self._head, self._headers = 0, 0

    def _end_head(self) -> None:
        self._head = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None


class _HeadRefused(Exception):
    pass


def _refusal(status: int, message: str) -> bytes:
    """A whole response, shaped as our other refusals, that closes the connection."""
    reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
    body = b'{"errors":[{"message":"%s","extensions":{"code":"BAD_REQUEST"}}]}' % (
        message.encode("ascii"))
    return b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n" \
           b"connection: close\r\n\r\n%s" % (status, reason, len(body), body)


def websocket_protocol(settings: Settings) -> str | type[asyncio.Protocol]:
    return LeanWebSocketProtocol if settings.websockets == "websockets-sansio" else (
        settings.websockets)


class WorkerApp:
    """What uvicorn calls (``factory=True``) in the process that serves, to build that
    process's own app: its hub, event bus, relay and dispatchers (named after the process).
    Settings pickle, so a spawned worker process gets the parent's."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.view: GraphQLView | None = None

    def __call__(self) -> Starlette:
        from api.app import create_app
        from api.logs import configure

        configure(self.settings)  # a spawned process starts with no logging set up
        try:
            app = create_app(self.settings)
        except Exception:  # it would fail the same way in every worker started after it
            log.exception("the app could not be built")
            sys.exit(STARTUP_FAILURE)
        self.view = app.state.graphql_view
        return app


class GracefulServer(uvicorn.Server):
    """On SIGTERM: stop taking connections, tell websocket clients to go elsewhere (close
    1001, "going away"), let requests in flight finish, then stop the background work."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        if isinstance(app, WorkerApp) and app.view is not None:
            await app.view.close_websockets()
        await super().shutdown(sockets)


STARTUP_SECONDS = 60.0
"""How long a new worker has to start before it must answer health checks."""


class WorkerProcess(Process):
    """uvicorn's worker process, serving with ``GracefulServer``, that stops (as on SIGTERM)
    once its supervisor is gone, instead of serving on unsupervised and holding the port."""

    started_at = 0.0

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = GracefulServer(self.config)
        return self._server

    def start(self) -> None:
        self.started_at = time.monotonic()
        super().start()

    def responsive(self, timeout: float) -> bool:
        """Alive and answering a health check in ``timeout``; while it starts, alive. Before
        a spawned worker's health-check thread runs it imports this package's modules, which
        on a busy machine outlast uvicorn's 5 s (each worker was then killed as hung and
        started again, never serving); then it builds its app and opens its lifespan."""
        if time.monotonic() - self.started_at < STARTUP_SECONDS:
            return self.process.is_alive()
        return self.is_alive(timeout)

    def always_pong(self) -> None:
        """Answer the supervisor's health checks (uvicorn's thread in the worker) until the
        pipe ends: the supervisor closed it (it is stopping this worker) or died."""
        self.parent_conn.close()  # this process's copy, or the pipe would never end here
        try:
            while True:
                self.pong()
        except (EOFError, OSError):
            os.kill(os.getpid(), signal.SIGTERM)


class Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes on one bound socket: SIGTERM or SIGINT is
    passed on to every worker as SIGTERM (each stops gracefully), and it exits once they
    have. A worker that dies after it started (killed, out of memory) is replaced while the
    others go on serving; one that fails before it serves (its app cannot be built, or its
    lifespan raises) would fail again, so every worker is stopped and ``failed`` is set.
    (An unreachable database is no such failure: the app starts and is not ready.) The
    count is fixed: SIGHUP, SIGTTIN and SIGTTOU are ignored."""

    failed = False

    @property
    def workers(self) -> list[WorkerProcess]:
        return self.processes  # type: ignore[return-value]  # only ours, from _started

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            self.processes.append(self._started())

    def keep_subprocess_alive(self) -> None:
        """uvicorn's own rule, with our process class (uvicorn's names its class directly)."""
        for index, process in enumerate(self.workers):
            if self.should_exit.is_set():
                return
            if process.responsive(self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # gone, or hung: it answers no health check
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker process %s failed to start; stopping", process.pid)
                self.failed = True
                self.should_exit.set()
                return
            log.warning("worker process %s died (exit code %s); starting another",
                        process.pid, process.exitcode)
            self.processes[index] = self._started()

    def handle_hup(self) -> None:
        log.info("SIGHUP ignored: restart the service to restart its workers")

    def handle_ttin(self) -> None:
        log.info("SIGTTIN ignored: the worker count is BACKORDERS_WORKERS or --workers")

    handle_ttou = handle_ttin

    def _started(self) -> WorkerProcess:
        process = WorkerProcess(self.config, self.sockets)
        process.start()
        return process


def serve(settings: Settings, workers: int = 1) -> int:
    """Serve until SIGTERM or SIGINT, in this process or in ``workers`` processes sharing
    one socket (migrations and demo data are the caller's, done once before). The exit
    code: 1 when the workers stopped because one could not start."""
    trusted = settings.trusted_proxy_list
    config = uvicorn.Config(WorkerApp(settings), factory=True, workers=workers,
                            host=settings.host, port=settings.port, lifespan="on",
                            log_config=None, access_log=False, timeout_graceful_shutdown=10,
                            # X-Forwarded-For only from BACKORDERS_TRUSTED_PROXIES (uvicorn
                            # would trust loopback, or its FORWARDED_ALLOW_IPS, by default)
                            proxy_headers=bool(trusted), forwarded_allow_ips=trusted or [],
                            http=BoundedHttpToolsProtocol,
                            ws=websocket_protocol(settings),
                            ws_per_message_deflate=settings.ws_per_message_deflate)
    if workers == 1:
        GracefulServer(config).run()
        return 0
    supervisor = Supervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    return 1 if supervisor.failed else 0
