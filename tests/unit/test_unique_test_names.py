"""Test files have unique basenames: the suite's folders are not packages, so two
``test_x.py`` in two folders make pytest stop with "import file mismatch"."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_files_share_a_name() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert len(names) > 50  # (the scan sees the suite)
    assert [name for name, count in names.items() if count > 1] == []
