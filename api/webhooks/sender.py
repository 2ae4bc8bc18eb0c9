"""Sends one signed request and says what came of it; never raises for the receiver's sake.

Before connecting, the URL's host is resolved and every address it names must be public
unless private ones are allowed (``BACKORDERS_WEBHOOK_ALLOW_PRIVATE``): a webhook is not a
way into the shop's own network. Redirects are never followed (a redirect could lead there).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from api.domain.webhooks import public


@dataclass(frozen=True)
class Response:
    status: int | None
    """The receiver's HTTP status; None when there was no answer."""
    error: str | None = None
    duration_ms: int = 0


class Sender:
    def __init__(self, timeout: float, allow_private: bool) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout), follow_redirects=False, trust_env=False,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post(self, url: str, body: str, headers: dict[str, str]) -> Response:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                refusal = await self._refusal(url)
                if refusal is not None:
                    return Response(None, refusal)
                if self._client is None:
                    await self.open()
                assert self._client is not None
                answer = await self._client.post(url, content=body.encode(), headers=headers)
        except TimeoutError:
            return Response(None, f"no answer within {self.timeout:g} s", _ms(started))
        except httpx.HTTPError as exc:
            return Response(None, f"{type(exc).__name__}: {exc}"[:400] or type(exc).__name__,
                            _ms(started))
        except OSError as exc:
            return Response(None, f"{type(exc).__name__}: {exc}"[:400], _ms(started))
        return Response(answer.status_code, None, _ms(started))

    async def _refusal(self, url: str) -> str | None:
        """Why ``url`` may not be reached, or None."""
        if self.allow_private:
            return None
        host = urlsplit(url).hostname or ""
        port = urlsplit(url).port or (443 if url.startswith("https") else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            return f"cannot resolve {host}: {exc}"
        for *_, address in found:
            ip = ipaddress.ip_address(str(address[0]).split("%")[0])
            if not public(ip):
                return (f"{host} resolves to {ip}, not a public address "
                        "(BACKORDERS_WEBHOOK_ALLOW_PRIVATE)")
        return None


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
