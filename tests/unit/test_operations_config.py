"""Settings that are wrong stop the process with a message naming them; logs hide secrets."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api import logs
from api.logs import redact
from tests.e2e.server import backorders_command

BAD = [
    ({"PORT": "70000"}, "PORT"),
    ({"BACKORDERS_ENVIRONMENT": "staging"}, "BACKORDERS_ENVIRONMENT"),
    ({"BACKORDERS_DATABASE_URL": "mysql://db/x"}, "BACKORDERS_DATABASE_URL"),
    ({"BACKORDERS_BROADCAST_URL": "kafka://x"}, "BACKORDERS_BROADCAST_URL"),
    ({"BACKORDERS_JWT_SECRET": "short"}, "BACKORDERS_JWT_SECRET"),
    ({"BACKORDERS_JWT_ALGORITHM": "RS256"}, "BACKORDERS_JWT_PUBLIC_KEY"),
    ({"BACKORDERS_RATE_LIMIT_ORDERS": "lots"}, "BACKORDERS_RATE_LIMIT_ORDERS"),
    ({"BACKORDERS_CORS_ORIGINS": "not json"}, "BACKORDERS_CORS_ORIGINS"),
    ({"BACKORDERS_MAX_PAGE_SIZE": "0"}, "BACKORDERS_MAX_PAGE_SIZE"),
    ({"BACKORDERS_TRUSTED_PROXIES": "10.0.0.1,lb"}, "BACKORDERS_TRUSTED_PROXIES"),
    ({"BACKORDERS_ENVIRONMENT": "production"}, "development secret"),
]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BACKORDERS_")}
    return subprocess.run([*backorders_command(), *args], capture_output=True, text=True,
                          timeout=60, check=False, env={**clean, **env})


@pytest.mark.parametrize(("env", "named"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_setting_stops_the_process_and_is_named(env: dict[str, str], named: str) -> None:
    run = _run("check-config", **env)
    assert run.returncode == 2
    assert named in run.stderr


def test_check_config_masks_secrets() -> None:
    run = _run("check-config", BACKORDERS_JWT_SECRET="x" * 40,
               BACKORDERS_DATABASE_URL="postgres://shop:hunter2@db:5432/shop",
               BACKORDERS_NOTIFY_EMAIL_URL="mailtos://me:pw@smtp.example.com?to={to}")
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert shown["jwt_secret"] == "***"
    assert shown["database_url"] == "postgres://shop:***@db:5432/shop"
    assert "hunter2" not in run.stdout and "x" * 40 not in run.stdout
    assert "pw@" not in run.stdout


def test_logs_hide_tokens_and_mask_addresses() -> None:
    line = ("Authorization: Bearer abc.def.ghi for alice@example.com at +14155550100 "
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig")
    cleaned = redact(line)
    assert "abc.def.ghi" not in cleaned and "eyJ" not in cleaned
    assert "alice@example.com" not in cleaned and "a***@example.com" in cleaned
    assert "4155550100" not in cleaned and "0100" in cleaned


def _every_pattern(text: str) -> str:
    text = logs.BEARER.sub("Bearer [redacted]", text)
    text = logs.JWT.sub("[token]", text)
    text = logs.EMAIL.sub(r"\1***@\2", text)
    return logs.PHONE.sub(r"+***\1", text)


@given(st.lists(st.sampled_from(["Bearer ", "bEaReR\t", "eyJ", "hbGc", ".", "-", "@", "+",
                                 "4915", "1234", "a", "x.y", " ", "é", "\n"])
                | st.text(max_size=5), max_size=20).map("".join))
def test_the_quick_check_never_skips_what_a_pattern_would_change(text: str) -> None:
    assert redact(text) == _every_pattern(text)
