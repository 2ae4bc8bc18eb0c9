"""Logging: JSON lines in production, readable lines in development; secrets never logged.

Every record passes a redaction filter: bearer tokens and JWTs are dropped, email addresses
and phone numbers are masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected

from api.domain.errors import DomainError
from api.settings import Settings
from api.store.outages import outage_of

JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+")
BEARER = re.compile(r"(?i)\bbearer\s+(?=[\w~+/.=-]*?(?:[\d~+/=_-]|\.[\w~+/=-])"
                    r"|[\w~+/.=-]{16})[\w~+/.=-]+")
"""A token after "Bearer" (RFC 6750's characters): one with a digit, a symbol or an inner
dot in it, or 16 characters or more; a word ("needs a bearer token.") is left alone."""
EMAIL = re.compile(r"\b([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)\b")
PHONE = re.compile(r"\+\d{3,}(\d{4})\b")
SUSPECT = re.compile(r"(?i)bearer|eyj|@|\+\d")
"""Something each pattern above needs; most lines have none of it and skip the four."""
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "operation", "role",
          "client")


def redact(text: str) -> str:
    if not SUSPECT.search(text):
        return text
    text = BEARER.sub("Bearer [redacted]", text)
    text = JWT.sub("[token]", text)
    text = EMAIL.sub(r"\1***@\2", text)
    return PHONE.sub(r"+***\1", text)


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for name in FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class ClientErrors(logging.Filter):
    """On Strawberry's logger, which writes every error of an operation at ERROR with its
    traceback: an error that is the client's (a document that does not parse or validate,
    bad variables, or a typed domain error such as INVALID_INPUT or FORBIDDEN raised outside
    a union) becomes one INFO line without a traceback. An unexpected exception stays an
    ERROR with its traceback (and is logged again with the reference the client was given,
    where it is masked: ``api/graphql/errors.py``). An outage of the database is not logged
    per request: ``api/store/outages.py`` tells it once."""

    def filter(self, record: logging.LogRecord) -> bool:
        error: Any = record.msg
        if not hasattr(error, "original_error") or not hasattr(error, "path"):
            return True
        original = error.original_error
        if isinstance(original, Exception) and outage_of(original) is not None:
            return False
        if isinstance(original, DomainError):
            code = original.code
        elif original is None or hasattr(original, "extensions"):  # ours, or the request's
            code = (getattr(original or error, "extensions", None) or {}).get(
                "code", "INVALID_REQUEST")
        else:
            return True
        path = ".".join(str(p) for p in error.path or ()) or "request"
        record.msg = f"client error at {path}: {code}: {getattr(error, 'message', error)}"
        record.args = None
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info = record.exc_text = None
        return True


class Disconnects(logging.Filter):
    """On the logger of Strawberry's websocket operations, which writes "Exception in worker
    task" at ERROR with a traceback when a send fails: a client that went away while an
    event was on its way is an ordinary disconnect, one INFO line. Other failures stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        seen = 0
        while error is not None and seen < 5:  # the disconnect may be the cause of it
            if isinstance(error, WebSocketDisconnected | WebSocketDisconnect):
                record.msg, record.args = "websocket closed by the client during a send", None
                record.levelno, record.levelname = logging.INFO, "INFO"
                record.exc_info = record.exc_text = None
                return True
            error, seen = error.__cause__ or error.__context__, seen + 1
        return True


GRAPHQL_ERRORS = logging.getLogger("strawberry.execution")
WEBSOCKET_TASKS = logging.getLogger("strawberry.ws.task")
REQUESTS = logging.getLogger("backorders.request")


class RequestLines:
    """The request log: one line per HTTP request. While the handler ``configure`` set up is
    the only one, the line is written to it directly, with the same redaction and the same
    fields in the same format, without a LogRecord, a filter and a formatter per request
    (about 70 us a line, a tenth of a simple request); otherwise it goes through ``logging``
    like any other line."""

    def __init__(self) -> None:
        self.handler: logging.Handler | None = None
        self.json = False
        self._formatter: logging.Formatter | None = None
        self._filters: list[Any] = []
        self._stamp = (-1, "")

    def install(self, handler: logging.Handler, json_lines: bool) -> None:
        self.handler = handler
        self.json = json_lines
        self._formatter = handler.formatter
        self._filters = list(handler.filters)

    def _direct(self) -> logging.Handler | None:
        """Our handler, when the line would go to it alone, as configured; else None."""
        handler = self.handler
        handlers = logging.root.handlers
        if (handler is None or len(handlers) != 1 or handlers[0] is not handler
                or handler.formatter is not self._formatter
                or handler.filters != self._filters or handler.level > logging.INFO):
            return None
        if REQUESTS.filters:  # (a parent's filters do not see its children's records)
            return None
        logger: logging.Logger | None = REQUESTS
        while logger is not None and logger is not logging.root:
            if logger.handlers or not logger.propagate:
                return None
            logger = logger.parent
        return handler

    def __call__(self, method: str, path: str, status: int, fields: dict[str, Any]) -> None:
        if not REQUESTS.isEnabledFor(logging.INFO):
            return
        handler = self._direct()
        if handler is None:
            REQUESTS.info("%s %s %s", method, path, status, extra=fields)
            return
        message = redact(f"{method} {path} {status}")
        for name, value in fields.items():
            if isinstance(value, str):
                fields[name] = redact(value)
        if self.json:  # as python-json-logger writes it (the json module's defaults)
            line = json.dumps({"time": self._asctime(), "level": "INFO",
                               "logger": REQUESTS.name, "message": message, **fields})
        else:
            extra = " ".join(f"{name}={value}" for name, value in fields.items())
            line = f"{self._asctime()} INFO    {REQUESTS.name}: {message} {extra}"
        handler.acquire()
        try:
            handler.stream.write(line + "\n")  # type: ignore[attr-defined]
            handler.flush()
        except Exception:  # as logging does: a line that cannot be written is not an error
            pass
        finally:
            handler.release()

    def _asctime(self) -> str:
        """What ``logging.Formatter`` writes for ``%(asctime)s``, the date part made once
        a second."""
        now = time.time()
        second = int(now)
        made, stamp = self._stamp
        if second != made:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._stamp = (second, stamp)
        return f"{stamp},{int((now - second) * 1000):03d}"


request_log = RequestLines()


class Readable(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{k}={getattr(record, k)}" for k in FIELDS if hasattr(record, k))
        return f"{line} {extra}" if extra else line


def configure(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redact())
    if settings.environment == "production":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(Readable("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    # What the logging HOWTO's "Optimization" section lists: no caller lookup (a walk up
    # the stack), no thread or process names. None of them is in our lines.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    request_log.install(handler, json_lines=settings.environment == "production")
    root.setLevel(logging.INFO)
    for logger, kind in ((GRAPHQL_ERRORS, ClientErrors), (WEBSOCKET_TASKS, Disconnects)):
        logger.filters[:] = [f for f in logger.filters if not isinstance(f, kind)] + [kind()]
    for noisy in ("tortoise", "tortoise.db_client", "apprise", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

