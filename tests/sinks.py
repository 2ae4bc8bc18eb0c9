"""Local sinks that the notification tests send to through real Apprise: SMTP and HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import free_port


class _Mailbox:
    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.delay = delay
        self.replies: list[str] = []
        """Replies to the next messages, in order (``451 4.3.0 Try again later``); a reply
        that is not 250 keeps the message out of the mailbox."""
        self.begun = 0
        """Messages whose data arrived, confirmed or not yet."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.begun += 1
            reply = self.replies.pop(0) if self.replies else "250 OK"
        if self.delay:
            await asyncio.sleep(self.delay)
        if not reply.startswith("250"):
            return reply.format(to=", ".join(envelope.rcpt_tos))
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return reply


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps what it receives; stop and start it at will."""

    def __init__(self, port: int | None = None, delay: float = 0.0) -> None:
        self.port = port or free_port()
        self.mailbox = _Mailbox(delay)
        self._controller: Controller | None = None

    def url(self, sender: str = "shop@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={{to}}"

    def start(self) -> SmtpSink:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.mailbox.lock:
            return list(self.mailbox.messages)

    def reply(self, *replies: str) -> None:
        """Answer the next messages with these replies (``{to}`` is the recipient)."""
        with self.mailbox.lock:
            self.mailbox.replies.extend(replies)

    @property
    def begun(self) -> int:
        with self.mailbox.lock:
            return self.mailbox.begun

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


class HttpSink:
    """An HTTP server that keeps every JSON body POSTed to it (Apprise's json:// service)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                sink.requests.append((self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}?:to={{to}}"

    def start(self) -> HttpSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
