"""Free ports for the servers the tests start."""

from __future__ import annotations

import os
import socket

__all__ = ["free_port"]

_PORTS_PER_WORKER = 2000
_next_port: dict[str, int] = {}


def free_port() -> int:
    """A port nobody listens on. Under pytest-xdist each test process takes ports from its
    own block below the kernel's ephemeral range (gw0: 20000-21999, gw1: 22000-23999, ...):
    a port the kernel hands out for ``bind(0)`` could be handed to the other process too
    before our server binds it, and its server would then answer our readiness check."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit() and int(worker[2:]) < 6:
        first = 20000 + int(worker[2:]) * _PORTS_PER_WORKER
        for _ in range(_PORTS_PER_WORKER):
            port = _next_port.get(worker, first)
            _next_port[worker] = first + (port + 1 - first) % _PORTS_PER_WORKER
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        return int(port)
