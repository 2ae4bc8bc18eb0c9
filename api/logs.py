"""Logging: JSON lines in production, readable lines in development; secrets never logged.

Every record passes a redaction filter: bearer tokens and JWTs are dropped, email addresses
and phone numbers are masked.
"""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from api.settings import Settings

JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+")
BEARER = re.compile(r"(?i)\bbearer\s+\S+")
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
    root.setLevel(logging.INFO)
    for noisy in ("tortoise", "tortoise.db_client", "apprise", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

