"""A development mail sink: an SMTP server on loopback that prints every message it gets.

    backorders mail-sink --port 2525
    BACKORDERS_NOTIFY_EMAIL_URL='mailto://127.0.0.1:2525?from=shop@example.com&to={to}' \\
        backorders serve --demo
"""

from __future__ import annotations

import asyncio
import signal
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Printer:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain", "html"))
        text = body.get_content() if body is not None else ""
        print(f"--- mail to {message['To']}\nSubject: {message['Subject']}\n\n{text.strip()}\n",
              flush=True)
        return "250 OK"


def run(host: str, port: int) -> None:
    controller = Controller(Printer(), hostname=host, port=port)
    controller.start()
    print(f"backorders: mail sink on {host}:{port}; use "
          f"BACKORDERS_NOTIFY_EMAIL_URL='mailto://{host}:{port}?from=shop@example.com&to={{to}}'",
          flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
        loop.close()
        sys.stdout.flush()
