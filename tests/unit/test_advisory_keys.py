"""Every PostgreSQL advisory lock key in the service is its own: two uses of one key
exclude each other across sessions (a session lock held for ``/metrics`` once shut the
webhook fan-out out everywhere)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "api"
KEY = re.compile(r"^\s*[A-Z_]*LOCK[A-Z_]*\s*=\s*(\d[\d_]{5,})\s*$", re.M)


def test_each_advisory_lock_key_is_declared_once() -> None:
    keys = Counter(int(value.replace("_", ""))
                   for path in API.rglob("*.py")
                   for value in KEY.findall(path.read_text(encoding="utf-8")))
    assert len(keys) >= 3, keys  # the relay's, the metrics leadership's, the fan-out's
    assert [key for key, uses in keys.items() if uses > 1] == []
