"""What every resolver gets: who is asking, the settings, and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.types import Info as StrawberryInfo

from api.domain.identity import Actor
from api.graphql.loaders import Loaders
from api.settings import Settings


@dataclass
class Context:
    actor: Actor | None
    settings: Settings
    loaders: Loaders = field(default_factory=Loaders)


Info = StrawberryInfo[Context, None]
