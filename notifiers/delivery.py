"""Delivery through Apprise: one message to one address on one configured service.

Two things Apprise does not offer as an argument, and how they are had here:

- **The server's reply.** Apprise's email plugin logs an SMTP refusal (``451``, ``550``)
  only at DEBUG, as ``Socket Exception: (451, b'...')``; its warning reads the same for
  every cause. ``capture_replies()`` (done once, at the first send) lets the
  ``apprise`` logger emit DEBUG records, which the per-call capture of ``async_notify``
  collects into the result, and passes only WARNING and above on to the process's own log,
  as before. The reply is read from the captured entries: its code, its text, and whether
  the refusal is permanent (5xx), which is never retried.
- **The plain-text part.** For an HTML body the email plugin makes the text part by
  converting the HTML (``convert_between`` in ``apprise.plugins.email.base``), which loses
  the links and a shop's own text block. While ``deliver`` sends a message with both, that
  conversion answers the template's text block instead; every other conversion is
  Apprise's own. Apprise runs plugins with a copy of the caller's context, so the text is
  handed over in a context variable and concurrent sends never see each other's.
  ``tests/integration/test_notification_delivery.py`` pins both against a real SMTP server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import apprise

from notifiers.messages import Message

APPRISE_LOGGER = "apprise"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    permanent: bool = False
    """The service refused the message for good (SMTP 5xx): trying again cannot help."""
    reason: str | None = None
    """For a permanent failure, what kind: ``refused``, ``service_url``."""


def target_url(template: str, address: str) -> str:
    """The service URL for one recipient: ``{to}`` in the template becomes the address."""
    return template.replace("{to}", quote(address, safe="@+"))


async def deliver(message: Message, url_template: str, address: str,
                  service_timeout: float = 15.0) -> Outcome:
    """Send ``message``; never raises for a delivery failure, it returns it."""
    service = apprise.Apprise()
    if not service.add(target_url(url_template, address)):
        return Outcome(False, "the notification service URL is not valid", permanent=True,
                       reason="service_url")
    capture_replies()
    _install_text_part()
    token = _TEXT_PART.set(message.body if message.html else None)
    try:
        result = await service.async_notify(
            body=message.html or message.body,
            title=message.title,
            body_format=apprise.NotifyFormat.HTML if message.html else apprise.NotifyFormat.TEXT,
            timeout=service_timeout,
            log_level=logging.DEBUG,
        )
    except Exception as exc:  # a plugin that raises is a failed delivery, not a crash
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    finally:
        _TEXT_PART.reset(token)
    if result:
        return Outcome(True)
    return failure([(e.level, e.message) for e in result.logs()])


REPLY = re.compile(r"\((?P<code>[245]\d\d), b?(?P<q>['\"])(?P<text>.*?)(?P=q)\)")
"""An SMTP reply as smtplib's exceptions print it: ``(550, b'5.1.1 <a@b>: no such user')``."""


def failure(entries: list[tuple[str, str]]) -> Outcome:
    """What went wrong, from the log entries Apprise captured for one send."""
    for _, text in reversed(entries):
        found = REPLY.search(text)
        if found:
            code, reply = found["code"], found["text"].replace("\\r\\n", " ").strip()
            return Outcome(False, f"the server replied {code} {reply}"[:500],
                           permanent=code.startswith("5"), reason="refused")
    problems = [text for level, text in entries if level in ("WARNING", "ERROR")]
    return Outcome(False, (problems[-1] if problems else "delivery failed")[:500])


class _Forward(logging.Handler):
    """Hands the ``apprise`` logger's WARNING and above to the root logger's handlers, as
    propagation did, while its DEBUG lines go only to the per-call capture."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        for handler in logging.getLogger().handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def capture_replies() -> None:
    """Let Apprise's DEBUG lines (where SMTP replies are) reach the per-call capture
    without reaching the process log. Idempotent."""
    logger = logging.getLogger(APPRISE_LOGGER)
    if any(isinstance(h, _Forward) for h in logger.handlers):
        return
    logger.addHandler(_Forward())
    logger.propagate = False
    logger.setLevel(logging.DEBUG)


_TEXT_PART: ContextVar[str | None] = ContextVar("backorders_text_part", default=None)
_original: Callable[..., Any] | None = None


def _install_text_part() -> None:
    global _original
    from apprise.plugins.email import base as email_plugin

    if _original is not None:
        return
    _original = getattr(email_plugin, "convert_between")  # noqa: B009 (not re-exported)

    def text_part(from_format: Any, to_format: Any, content: Any, *args: Any,
                  **kwargs: Any) -> Any:
        text = _TEXT_PART.get()
        if (text is not None and from_format == apprise.NotifyFormat.HTML
                and to_format == apprise.NotifyFormat.TEXT):
            return text
        assert _original is not None
        return _original(from_format, to_format, content, *args, **kwargs)

    setattr(email_plugin, "convert_between", text_part)  # noqa: B010
