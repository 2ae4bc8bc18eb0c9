"""Static checks of docker/Dockerfile, docker/compose.yaml, docker/nginx.conf and .dockerignore.

No Docker engine is needed. The compose file is validated with the compose client's own
``config`` command when a client is installed (``docker compose`` v2, or the older
``docker-compose``), and nginx.conf with ``nginx -t`` when nginx is installed; those tests skip
only when the tool is missing. The static checks read the files as text and run anywhere in
well under a second. The last tests perform the Dockerfile's build steps (tests/image_steps.py:
its COPY lines into a fresh folder, its pip install into a fresh virtualenv) and run the
image's ``migrate``, ``CMD`` (``serve``), ``HEALTHCHECK`` and ``worker`` from that install in a
working directory outside the repository: about 20 seconds.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.server import free_port
from tests.image_steps import Image, argv_of, build_image, clean_environment, instructions, stage

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
NGINX_CONF = ROOT / "docker" / "nginx.conf"
DOCKERIGNORE = ROOT / ".dockerignore"


# ---- Dockerfile ----------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


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
    # Numeric uid and gid, so that Kubernetes' runAsNonRoot can check them.
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) >= 1000, users[-1]
    assert gid.isdigit(), users[-1]

    assert "8000" in " ".join(_args("EXPOSE")).split()
    env = " ".join(_args("ENV"))
    assert "HOST=0.0.0.0" in env
    assert "PORT=8000" in env


def test_dockerfile_installs_with_constraints() -> None:
    copied = " ".join(_args("COPY"))
    for needed in ("pyproject.toml", "constraints.txt", "README.md", "api/"):
        assert needed in copied, f"{needed} is not copied into the image"
    assert any(re.search(r"pip install .*-c constraints\.txt", run) for run in _args("RUN"))


def test_dockerfile_copies_every_package_pyproject_ships() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = {pattern.rstrip("*") for pattern in
               config["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {
        word.strip("./")
        for keyword, rest in stage("build") if keyword == "COPY"
        for word in rest.split()[:-1]
    }
    assert shipped <= copied, f"not copied into the image: {sorted(shipped - copied)}"


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


def _ports(service: dict[str, Any]) -> set[str]:
    """Published ports as "host:container", from the short ("8000:80") or long form."""
    result: set[str] = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            result.add(f"{port.get('published')}:{port.get('target')}")
        else:
            result.add(str(port))
    return result


def _mounts(service: dict[str, Any]) -> list[tuple[Path, str, bool]]:
    """Bind mounts as (host path, container path, read-only), short or long form."""
    result: list[tuple[Path, str, bool]] = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = str(volume.get("source")), str(volume.get("target"))
            read_only = bool(volume.get("read_only"))
        else:
            source, target, *mode = str(volume).split(":")
            read_only = "ro" in (mode[0].split(",") if mode else [])
        path = Path(source)
        result.append((path if path.is_absolute() else COMPOSE.parent / path, target, read_only))
    return result


def _conditions(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: "service_started" for name in depends}
    return {name: str(spec.get("condition", "service_started")) for name, spec in depends.items()}


def _services() -> dict[str, Any]:
    model = _compose_model()
    if model is None:
        pytest.skip("neither PyYAML nor docker compose v2 installed to read the compose file")
    services: dict[str, Any] = model["services"]
    return services


API_INSTANCES = ("api1", "api2")
SHARED_ENV = {
    "BACKORDERS_ENVIRONMENT": "production",
    "BACKORDERS_BROADCAST_URL": "redis://redis:6379/0",
    "BACKORDERS_RATE_LIMIT_STORAGE": "redis://redis:6379/1",
    "BACKORDERS_DISPATCHER": "off",
}


def test_compose_services_structure() -> None:
    services = _services()
    assert {"db", "redis", "migrate", *API_INSTANCES, "worker", "lb"} <= services.keys()
    assert "api" not in services  # replaced by the two instances behind lb

    db = services["db"]
    assert str(db["image"]).startswith("postgres:15")
    assert "pg_isready" in " ".join(map(str, db["healthcheck"]["test"]))
    assert db.get("volumes")

    redis = services["redis"]
    assert str(redis["image"]).startswith("redis:7")
    assert "redis-cli ping" in " ".join(map(str, redis["healthcheck"]["test"]))

    migrate = services["migrate"]
    assert list(map(str, migrate["command"]))[:2] == ["backorders", "migrate"]
    assert _conditions(migrate)["db"] == "service_healthy"
    assert migrate["build"]["dockerfile"] == "docker/Dockerfile"


def test_compose_two_api_instances_behind_the_load_balancer() -> None:
    services = _services()
    migrate_env = _environment(services["migrate"])
    for name in API_INSTANCES:
        api = services[name]
        assert list(map(str, api["command"])) == ["backorders", "serve", "--no-migrate"], name
        assert api["build"]["dockerfile"] == "docker/Dockerfile"
        assert api["image"] == services["migrate"]["image"]
        conditions = _conditions(api)
        assert conditions["migrate"] == "service_completed_successfully", name
        assert conditions["redis"] == "service_healthy", name
        check = " ".join(map(str, api["healthcheck"]["test"]))
        assert "urllib" in check and "/readyz" in check and "curl" not in check, name
        assert not api.get("ports"), f"{name} must be reached through lb only"

        env = _environment(api)
        _assert_postgres_url_on_db(env["BACKORDERS_DATABASE_URL"])
        assert env["BACKORDERS_DATABASE_URL"] == migrate_env["BACKORDERS_DATABASE_URL"]
        for key, value in SHARED_ENV.items():
            assert env[key] == value, (name, key)
        assert "BACKORDERS_JWT_SECRET" in env
        assert env["HOST"] == "0.0.0.0"
    assert services["api1"] == services["api2"]  # two copies of one instance


def test_compose_worker_shares_the_settings() -> None:
    services = _services()
    worker, api = services["worker"], services["api1"]
    assert list(map(str, worker["command"])) == ["backorders", "worker"]
    assert worker["image"] == api["image"]
    assert _conditions(worker)["migrate"] == "service_completed_successfully"
    assert not worker.get("ports")
    shared = {k: v for k, v in _environment(api).items() if k.startswith("BACKORDERS_")}
    assert _environment(worker) == shared
    # The image's HEALTHCHECK asks /healthz, which neither the worker nor migrate serves.
    for name in ("worker", "migrate"):
        assert services[name]["healthcheck"] == {"disable": True}, name


def test_compose_load_balancer_publishes_8000_and_mounts_nginx_conf() -> None:
    services = _services()
    lb = services["lb"]
    assert str(lb["image"]).startswith("nginx:1.27")
    assert _ports(lb) == {"8000:80"}
    assert (NGINX_CONF, "/etc/nginx/nginx.conf", True) in _mounts(lb)
    conditions = _conditions(lb)
    for name in API_INSTANCES:
        assert conditions[name] == "service_healthy"
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"lb"}, "only the load balancer publishes a port"


def _compose_block(text: str, header: str, indent: int) -> str:
    """The lines under ``header`` (a whole line) that are indented deeper than it."""
    pad = " " * indent
    match = re.search(
        rf"^{pad}{re.escape(header)}\n((?:{pad}  .*\n|[ \t]*\n)+)", text, re.MULTILINE
    )
    assert match, f"no {header!r} in compose.yaml"
    return match.group(1)


def test_compose_shared_settings_are_anchored_text() -> None:
    """The same promises read as text, so they hold even where nothing can parse YAML."""
    text = COMPOSE.read_text(encoding="utf-8")
    urls = re.findall(r"^\s*BACKORDERS_DATABASE_URL:\s*[\"']?([^\s\"'#]+)", text, re.MULTILINE)
    assert urls, "compose.yaml sets no BACKORDERS_DATABASE_URL"
    for url in urls:
        _assert_postgres_url_on_db(url)

    shared = _compose_block(text, "x-backorders-env: &backorders-env", 0)
    assert re.search(r"BACKORDERS_JWT_SECRET: \$\{BACKORDERS_JWT_SECRET:\?", shared)
    for key, value in SHARED_ENV.items():
        assert re.search(rf"^\s*{key}:\s*[\"']?{re.escape(value)}[\"']?\s*$", shared, re.M), key

    api = _compose_block(text, "x-backorders-api: &backorders-api", 0)
    assert "<<: *backorders-env" in api
    for name in API_INSTANCES:
        assert "<<: *backorders-api" in _compose_block(text, f"{name}:", 2), name
    for name in ("migrate", "worker"):
        assert "environment: *backorders-env" in _compose_block(text, f"{name}:", 2), name
    assert re.search(r"""["']?8000:80["']?""", _compose_block(text, "lb:", 2))
    assert "nginx.conf:/etc/nginx/nginx.conf:ro" in _compose_block(text, "lb:", 2)


# ---- nginx.conf ----------------------------------------------------------------------------


def _nginx_text() -> str:
    """nginx.conf without comments."""
    lines = NGINX_CONF.read_text(encoding="utf-8").splitlines()
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in lines)


def _nginx_block(text: str, header: str) -> str:
    """The body of the first ``header { ... }`` block (nested braces included)."""
    match = re.search(rf"(?:^|[\s;{{}}]){header}\s*\{{", text)
    assert match, f"no {header!r} block in nginx.conf"
    depth, start = 1, match.end()
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[start:index]
    raise AssertionError(f"unbalanced braces after {header!r} in nginx.conf")


def _outside_blocks(block: str) -> str:
    """``block`` without its nested ``{ ... }`` blocks: the directives at its own level."""
    depth, kept = 0, []
    for char in block:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


def _directives(block: str, name: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(rf"(?:^|[\s;{{}}]){name}\s+([^;{{]*);", block)]


def test_nginx_balances_over_both_api_instances() -> None:
    text = _nginx_text()
    upstream = _nginx_block(text, r"upstream\s+(\w+)")
    name = re.search(r"upstream\s+(\w+)\s*\{", text)
    assert name
    assert "least_conn;" in upstream
    servers = [args.split()[0] for args in _directives(upstream, "server")]
    assert servers == ["api1:8000", "api2:8000"]
    for location in ("= /graphql", "@graphql_ws", "^~ /graphql/ide/", "= /healthz", "= /readyz",
                     "= /metrics"):
        body = _nginx_block(text, rf"location\s+{re.escape(location)}")
        assert _directives(body, "proxy_pass") == [f"http://{name.group(1)}"], location


def test_nginx_passes_websocket_upgrades_through() -> None:
    text = _nginx_text()
    server = _nginx_block(text, r"server")
    connection_map = _nginx_block(text, r"map\s+\$http_upgrade\s+\$connection_upgrade")
    assert re.search(r"websocket\S*\s+upgrade;", connection_map)
    assert _directives(server, "proxy_http_version") == ["1.1"]
    headers = _directives(server, "proxy_set_header")
    assert "Upgrade $http_upgrade" in headers
    assert "Connection $connection_upgrade" in headers
    # proxy_set_header in a location would drop the server's headers there: keep them in one place.
    for location in re.findall(r"location\s+([^{]+)\{", server):
        body = _nginx_block(server, rf"location\s+{re.escape(location.strip())}")
        assert not _directives(body, "proxy_set_header"), location

    graphql = _nginx_block(server, r"location\s+= /graphql")
    assert re.search(r"error_page\s+\d+\s*=\s*@graphql_ws;", graphql)
    assert "$http_upgrade" in graphql
    websocket = _nginx_block(server, r"location\s+@graphql_ws")
    (read_timeout,) = _directives(websocket, "proxy_read_timeout")
    seconds = int(re.sub(r"[sm]$", "", read_timeout)) * (60 if read_timeout.endswith("m") else 1)
    assert seconds >= 600, "websockets need a long proxy_read_timeout"


def test_nginx_forwards_request_id_client_and_limits() -> None:
    text = _nginx_text()
    server = _nginx_block(text, r"server")
    headers = dict(h.split(" ", 1) for h in _directives(server, "proxy_set_header"))
    request_id = headers["X-Request-ID"]
    id_map = _nginx_block(text, rf"map\s+\$http_x_request_id\s+{re.escape(request_id)}")
    assert "$request_id" in id_map  # generated when the client sends none
    assert headers["X-Forwarded-For"] in {"$remote_addr", "$proxy_add_x_forwarded_for"}
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert _directives(server, "client_max_body_size") == ["200k"]
    # Plain requests retry on the other instance (nginx never re-sends a POST it delivered).
    assert _directives(_outside_blocks(server), "proxy_next_upstream") == ["error timeout"]
    graphql = _nginx_block(server, r"location\s+= /graphql")
    assert not _directives(_outside_blocks(graphql), "proxy_next_upstream")


def test_nginx_conf_syntax(tmp_path: Path) -> None:
    """``nginx -t`` on a copy whose upstream hosts and file paths work outside the container."""
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if nginx is None:
        pytest.skip("nginx is not installed")
    text = NGINX_CONF.read_text(encoding="utf-8")
    text = re.sub(r"server\s+api\d+:8000", "server 127.0.0.1:8000", text)
    text = text.replace("/var/log/nginx/", f"{tmp_path}/").replace(
        "/var/run/nginx.pid", f"{tmp_path}/nginx.pid"
    )
    copy = tmp_path / "nginx.conf"
    copy.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(copy)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# ---- the image's build steps, performed, and its commands run ------------------------------
# tests/image_steps.py copies what the build stage's COPY lines copy into a fresh folder and
# runs its pip install there; a file the Dockerfile forgets fails here, not in production.


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return build_image(tmp_path_factory.mktemp("image"))


def _run_in(image: Image, argv: list[str], **env: str) -> subprocess.Popen[str]:
    """A process started in the image's WORKDIR with its PATH, the repository out of sight."""
    return subprocess.Popen(
        image.command(argv), cwd=image.app, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=clean_environment(PATH=image.path, PYTHONUNBUFFERED="1", **env),
    )


def _finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"{process.args} did not finish:\n{output}") from None
    return process.returncode, output


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    """Read the output until a line holds ``needle`` (what was read), or fail."""
    assert process.stdout is not None
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    process.kill()
    raise AssertionError(f"no {needle!r} from {process.args}:\n{''.join(seen)}")


def _wait_until_ready(server: subprocess.Popen[str], url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited:\n{_finish(server)[1]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise AssertionError(f"the server was not ready in {timeout} s:\n{_finish(server)[1]}")


def test_image_has_only_its_own_code(image: Image) -> None:
    probe = _run_in(image, ["python", "-c", "import api, notifiers; print(api.__file__, "
                            "notifiers.__file__); import pytest"])
    code, output = _finish(probe)
    assert str(image.venv) in output and str(ROOT) not in output, output
    assert code == 1 and "No module named 'pytest'" in output  # tests stay out of sight


def test_image_migrates_serves_and_answers_its_healthcheck(image: Image) -> None:
    code, output = _finish(_run_in(image, ["backorders", "migrate"]))
    assert code == 0 and "migrations applied" in output, output

    port = str(free_port())
    (cmd,) = [argv_of(rest) for keyword, rest in stage("runtime") if keyword == "CMD"]
    server = _run_in(image, cmd, HOST="127.0.0.1", PORT=port)
    try:
        _wait_until_ready(server, f"http://127.0.0.1:{port}/readyz")
        (check,) = [rest for keyword, rest in stage("runtime") if keyword == "HEALTHCHECK"]
        probe = check.split(" CMD ", 1)[1]
        health = _run_in(image, ["sh", "-c", probe], PORT=port)
        code, output = _finish(health, timeout=10)
        assert code == 0, output
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
    finally:
        server.terminate()
        code, output = _finish(server, timeout=20)
    # uvicorn ends by re-raising the SIGTERM it handled, once everything has shut down.
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output and "Traceback" not in output, output


def test_image_worker_dispatches_and_stops(image: Image) -> None:
    code, output = _finish(_run_in(image, ["backorders", "migrate"]))
    assert code == 0, output
    worker = _run_in(image, ["backorders", "worker"])
    _wait_for_line(worker, "dispatching", timeout=60)
    worker.send_signal(signal.SIGTERM)
    code, output = _finish(worker, timeout=20)
    assert code == 0 and "worker stopped" in output, output
