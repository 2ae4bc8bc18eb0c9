"""What every resolver gets: who is asking, the settings, and this request's loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from api.domain.identity import Actor
from api.domain.revocation import Revocations
from api.graphql.loaders import Loaders
from api.realtime.hub import Hub
from api.settings import Settings


@dataclass(slots=True)  # one per open socket: no __dict__ (the idle subscriber's memory)
class Context:
    actor: Actor | None
    settings: Settings
    loaders: Loaders = field(default_factory=Loaders)
    hub: Hub | None = None
    websocket: Any = None
    after_mutation: Callable[[], None] | None = None
    address: str = "unknown"
    limiter: Any = None
    request_state: Any = None
    """The HTTP request's state (the request log reads the operation from it)."""
    response: Any = None
    """The HTTP sub-response (status and headers), when there is one."""
    connection_params: dict[str, Any] | None = None
    """The websocket ``connection_init`` payload (set by Strawberry)."""
    token_expires_at: float | None = None
    """When the websocket's token expires (a Unix time); the socket closes then."""
    token_issued_at: float | None = None
    """When the websocket's token was issued (its ``iat``), to tell a revocation covers it."""
    revocations: Revocations | None = None
    """This instance's token revocations: a socket whose token they come to cover closes."""
    planned_reads: dict[str, frozenset[str] | None] | None = None
    """While a root plan's resolver runs: per object type, the attributes the plan will read
    of its objects (``Plan.reads``); None everywhere else."""


Info = StrawberryInfo[Context, None]
