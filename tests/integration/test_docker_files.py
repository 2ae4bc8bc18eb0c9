"""Static checks of docker/Dockerfile, docker/compose.yaml and .dockerignore (no Docker engine).

The compose file is validated with the compose client's own ``config`` command when a client
is installed (``docker compose`` v2, or the older ``docker-compose``); those tests skip only when
neither is. Everything else reads the files as text, so the checks run anywhere in well under
a second.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"


# ---- Dockerfile ----------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def _args(keyword: str) -> list[str]:
    return [rest for kw, rest in _instructions() if kw == keyword]


def test_dockerfile_cmd_runs_backorders_serve() -> None:
    cmds = _args("CMD")
    assert cmds, "the Dockerfile has no CMD"
    last = cmds[-1]
    argv = json.loads(last) if last.startswith("[") else shlex.split(last)
    assert argv[:2] == ["backorders", "serve"]
    assert "--no-migrate" not in argv  # the image migrates on start; compose opts out


def test_dockerfile_base_user_port_and_env() -> None:
    args = {
        m.group(1): m.group(2) for rest in _args("ARG") if (m := re.fullmatch(r"(\w+)=(\S+)", rest))
    }
    bases = [
        re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), rest.split()[0])
        for rest in _args("FROM")
    ]
    assert bases and all(base == "python:3.11-slim" for base in bases), bases

    users = _args("USER")
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}

    assert "8000" in " ".join(_args("EXPOSE")).split()
    env = " ".join(_args("ENV"))
    assert "HOST=0.0.0.0" in env
    assert "PORT=8000" in env


def test_dockerfile_installs_with_constraints() -> None:
    copied = " ".join(_args("COPY"))
    for needed in ("pyproject.toml", "constraints.txt", "README.md", "api/"):
        assert needed in copied, f"{needed} is not copied into the image"
    assert any(re.search(r"pip install .*-c constraints\.txt", run) for run in _args("RUN"))


def test_dockerfile_healthcheck_uses_python_urllib_on_healthz() -> None:
    checks = _args("HEALTHCHECK")
    assert len(checks) == 1
    assert "urllib" in checks[0]
    assert "/healthz" in checks[0]
    assert "curl" not in checks[0]  # not in python:*-slim


# ---- .dockerignore -------------------------------------------------------------------------


def test_dockerignore_excludes_local_state() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".venv", ".git", ".pytest_cache", "*.sqlite3"):
        assert needed in patterns, f".dockerignore does not exclude {needed}"
    for kept in ("api", "pyproject.toml", "constraints.txt", "README.md"):
        assert kept not in patterns, f".dockerignore excludes {kept}, which the build needs"


# ---- compose.yaml --------------------------------------------------------------------------


@cache
def _compose_command() -> tuple[str, ...] | None:
    """The compose client: ``docker compose`` (v2), else ``docker-compose``, else None."""
    if shutil.which("docker"):
        try:
            probe = subprocess.run(
                ["docker", "compose", "version"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            probe = None
        if probe is not None and probe.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    return None


def _compose(*args: str, secret: str | None = "test-secret") -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    if command is None:
        pytest.skip("no compose client (docker compose or docker-compose) installed")
    env = dict(os.environ)
    env.pop("BACKORDERS_JWT_SECRET", None)
    if secret is not None:
        env["BACKORDERS_JWT_SECRET"] = secret
    return subprocess.run(
        [*command, "-f", str(COMPOSE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=env,
    )


def test_compose_config_is_valid() -> None:
    result = _compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_run_without_a_jwt_secret() -> None:
    result = _compose("config", "-q", secret=None)
    assert result.returncode != 0
    assert "BACKORDERS_JWT_SECRET" in result.stderr


def _compose_model() -> dict[str, Any] | None:
    """The compose file as data: PyYAML if installed, else compose v2's JSON, else None."""
    try:
        import yaml
    except ImportError:
        pass
    else:
        loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
        return loaded
    if _compose_command() == ("docker", "compose"):
        result = _compose("config", "--format", "json")
        assert result.returncode == 0, result.stderr
        rendered: dict[str, Any] = json.loads(result.stdout)
        return rendered
    return None


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _assert_postgres_url_on_db(url: str) -> None:
    parts = urlsplit(url)
    assert parts.scheme in {"postgres", "postgresql"}, url
    assert parts.hostname == "db", url
    assert parts.path.strip("/"), f"no database name in {url}"


def test_compose_services_structure() -> None:
    model = _compose_model()
    if model is None:
        pytest.skip("neither PyYAML nor docker compose v2 installed to read the compose file")
    services = model["services"]
    assert {"db", "migrate", "api"} <= services.keys()

    db = services["db"]
    assert str(db["image"]).startswith("postgres:15")
    assert "pg_isready" in " ".join(map(str, db["healthcheck"]["test"]))
    assert db.get("volumes")

    migrate, api = services["migrate"], services["api"]
    assert list(map(str, migrate["command"]))[:2] == ["backorders", "migrate"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"

    assert list(map(str, api["command"])) == ["backorders", "serve", "--no-migrate"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["build"]["dockerfile"] == "docker/Dockerfile"
    assert "healthcheck" in api
    env = _environment(api)
    _assert_postgres_url_on_db(env["BACKORDERS_DATABASE_URL"])
    assert "BACKORDERS_JWT_SECRET" in env
    assert _environment(migrate)["BACKORDERS_DATABASE_URL"] == env["BACKORDERS_DATABASE_URL"]


def test_compose_api_database_url_is_postgres_text() -> None:
    """The same promise read as text, so it holds even where nothing can parse YAML."""
    text = COMPOSE.read_text(encoding="utf-8")
    urls = re.findall(r"^\s*BACKORDERS_DATABASE_URL:\s*[\"']?([^\s\"'#]+)", text, re.MULTILINE)
    assert urls, "compose.yaml sets no BACKORDERS_DATABASE_URL"
    for url in urls:
        _assert_postgres_url_on_db(url)
    api_block = re.search(r"^  api:\n((?:    .*\n|\s*\n)+)", text, re.MULTILINE)
    assert api_block, "no api service in compose.yaml"
    body = api_block.group(1)
    assert "BACKORDERS_DATABASE_URL" in body or "<<: *backorders-env" in body
    assert re.search(r"""["']?8000:8000["']?""", body)
