"""The Strawberry ASGI view: one per app, for HTTP and websockets on /graphql."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from api.auth import InvalidToken, bearer, verify
from api.domain.identity import Actor
from api.graphql.context import Context
from api.realtime.hub import Hub
from api.settings import Settings

TOKEN_PARAMS = ("Authorization", "authorization", "authToken", "token")


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        hub: Hub | None = None,
        after_mutation: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.settings = settings
        self.hub = hub
        self.after_mutation = after_mutation

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        actor: Actor | None = getattr(request.state, "actor", None)
        websocket = request if isinstance(request, WebSocket) else None
        return Context(actor=actor, settings=self.settings, hub=self.hub, websocket=websocket,
                       after_mutation=self.after_mutation)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The bearer token comes in ``connection_init``: {"Authorization": "Bearer ..."}."""
        params = context.connection_params or {}
        raw = next((params[k] for k in TOKEN_PARAMS if isinstance(params.get(k), str)), None)
        if raw is None:
            return None
        try:
            token = bearer(raw) if " " in raw else raw
            context.actor = verify(token, self.settings) if token else None
        except InvalidToken as exc:
            raise ConnectionRejectionError({"message": f"invalid bearer token: {exc}"}) from None
        return None
