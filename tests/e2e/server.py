"""Start ``backorders serve`` as a real process, as an operator would, and talk to it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint
from api.domain.identity import Role
from api.settings import Settings
from tests.ports import free_port

SECRET = "e2e-secret-that-is-long-enough-for-hs256"




def backorders_command() -> list[str]:
    script = Path(sys.executable).parent / "backorders"
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


class ServerProcess:
    def __init__(self, database_url: str, log_path: Path, *args: str,
                 secret: str | None = SECRET, ready: str = "/readyz", **env: str) -> None:
        """``secret=None`` keeps the development secret, as the README's commands do."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.settings = Settings(jwt_secret=secret) if secret else Settings()
        environment = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "BACKORDERS_DATABASE_URL": database_url,
            # Tests and benchmarks send far more from one address than a person would.
            "BACKORDERS_RATE_LIMIT_ORDERS_PER_ADDRESS": "100000/minute",
            "BACKORDERS_RATE_LIMIT_ORDERS": "100000/minute",
            "BACKORDERS_RATE_LIMIT_ANONYMOUS": "100000/minute",
            **({"BACKORDERS_JWT_SECRET": secret} if secret else {}),
            **env,
        }
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [*backorders_command(), "serve", *args],
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(ready)

    def _wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}{path}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def token(self, subject: str, role: Role = Role.CUSTOMER) -> str:
        return mint(self.settings, subject, role, timedelta(hours=1))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def worker_process(database_url: str, **env: str) -> subprocess.Popen[bytes]:
    """``backorders worker`` on ``database_url`` (its output dropped), with ``env``."""
    return subprocess.Popen(
        [*backorders_command(), "worker"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, **env,
                                        "BACKORDERS_DATABASE_URL": database_url,
                                        "BACKORDERS_JWT_SECRET": SECRET})


async def graphql(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    """POST one operation; fail on transport or GraphQL errors; return ``data``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def ws_url(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Wait until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.1)
