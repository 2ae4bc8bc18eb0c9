"""Every benchmark runs once at a tiny size, so that none of them rots (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_fanout_benchmark_runs() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.fanout", "--sizes", "5"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "shared p99" in run.stdout


def test_the_notification_benchmark_runs() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.notify", "--count", "5"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "two workers" in run.stdout


def test_the_whole_suite_runs_at_a_tiny_size() -> None:
    run = subprocess.run([sys.executable, "-m", "bench", "--tiny"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "4 restock serving" in run.stdout and "7 idle memory" in run.stdout
    assert "8 demandReport, 2,000 lines: seconds" in run.stdout
