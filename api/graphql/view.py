"""The Strawberry ASGI view: one per app, for HTTP and websockets on /graphql."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.datastructures import State
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from api import graphiql, metrics
from api.auth import InvalidToken, bearer, verified
from api.domain.identity import Actor
from api.domain.revocation import Revocations
from api.gateway import FIRST_HEADERS, first_headers
from api.graphql.context import Context
from api.graphql.errors import is_unavailable
from api.graphql.httpsubs import (
    STREAM_ACCEPTS,
    SUBSCRIPTION_PROTOCOLS,
    TOO_MANY_SUBSCRIPTIONS,
    StreamCounts,
    guarded_stream,
)
from api.graphql.loaders import LazyLoaders
from api.graphql.persisted import PersistedQueries, PersistedQueryError
from api.graphql.websocket import GraphQLWSHandler, TransportWSHandler, WebSocketAdapter
from api.ratelimit import RateLimits
from api.realtime.hub import Hub
from api.settings import Settings
from api.store.outages import RETRY_AFTER_SECONDS

TOKEN_PARAMS = ("Authorization", "authorization", "authToken", "token")
JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8",
                        "application/json;charset=utf-8", "application/json; charset=UTF-8"})
"""Content types the lean POST takes as they are; any other goes to Strawberry's parsing."""
POST_OPERATIONS = frozenset(OperationType.from_http("POST"))
GRAPHQL_RESPONSE = "application/graphql-response+json"


def wants_graphql_response(request: Request) -> bool:
    """The client prefers the GraphQL-over-HTTP media type (or accepts only it)."""
    return prefers_graphql_response(request.headers.get("accept", ""))


def prefers_graphql_response(accept: str) -> bool:
    kinds = [part.split(";")[0].strip() for part in accept.split(",")]
    if GRAPHQL_RESPONSE not in kinds:
        return False
    json_at = kinds.index("application/json") if "application/json" in kinds else len(kinds)
    return kinds.index(GRAPHQL_RESPONSE) < json_at


def bad_request(status: int, message: str) -> JSONResponse:
    """A refusal before any GraphQL ran, shaped as a GraphQL response."""
    return JSONResponse({"errors": [{"message": message,
                                     "extensions": {"code": "BAD_REQUEST"}}]},
                        status_code=status)


def _is_request_error(result: ExecutionResult) -> bool:
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(
        not e.path for e in result.errors or [])


JSON_MEDIA = b"application/json"
GRAPHQL_MEDIA = f"{GRAPHQL_RESPONSE}; charset=utf-8".encode()


async def read_body(receive: Any) -> bytes:
    """The whole request body, as Starlette's ``Request.body`` reads it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect


class Reply:
    """What a resolver may set on the answer to an HTTP request: a status and headers."""

    __slots__ = ("headers", "status_code")

    def __init__(self) -> None:
        self.status_code: int | None = None
        self.headers: dict[str, str] = {}


def reply(result: ExecutionResult, sub_response: Any, graphql_response: bool
          ) -> tuple[int, bytes, dict[str, Any]]:
    """(status, media type, body) of an HTTP answer, either way. An outage of the database
    (``SERVICE_UNAVAILABLE``) is a 503 with ``Retry-After``. GraphQL over HTTP: with
    ``Accept: application/graphql-response+json`` a request error (unparsable, invalid, bad
    variables) is a 400 without ``data``. Else the status a resolver set, or 200."""
    data: dict[str, Any] = {"data": result.data}
    if result.errors:
        data["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        data["extensions"] = result.extensions
    status = sub_response.status_code or 200
    if is_unavailable(result.errors):
        status = 503
        sub_response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    media_type = JSON_MEDIA
    if graphql_response:
        media_type = GRAPHQL_MEDIA
        if _is_request_error(result):
            status = 400
            del data["data"]
    return status, media_type, data


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = GraphQLWSHandler
    websocket_adapter_class = WebSocketAdapter

    def __init__(
        self,
        schema: Any,
        settings: Settings,
        hub: Hub | None = None,
        after_mutation: Callable[[], None] | None = None,
        limiter: RateLimits | None = None,
        revocations: Revocations | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_on else None,
            allow_queries_via_get=True,
            keep_alive=True,
            keep_alive_interval=15,
            subscription_protocols=SUBSCRIPTION_PROTOCOLS,
            allowed_origins=settings.cors_origins,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.settings = settings
        self.lean = settings.fast_queries
        self.hub = hub
        self.after_mutation = after_mutation
        self.limiter = limiter
        self.revocations = revocations
        self.websockets: set[WebSocket] = set()
        self.closed_websockets = 0
        self.persisted = PersistedQueries.from_settings(settings)
        self.streams = StreamCounts(settings.max_subscriptions_per_connection)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        actor: Actor | None = getattr(request.state, "actor", None)
        websocket = request if isinstance(request, WebSocket) else None
        if websocket is not None:
            self.websockets.add(websocket)
            websocket.scope.setdefault("state", {})["websocket"] = websocket
        address = request.client.host if request.client else "unknown"
        if isinstance(response, Response):
            request.state.sub_response = response
        return self._context(actor, address, request.state,
                             response if isinstance(response, Response) else None, websocket)

    def _context(self, actor: Actor | None, address: str, state: Any, response: Any,
                 websocket: Any = None) -> Context:
        """The one way a request's ``Context`` is made (Strawberry's way and the lean POST)."""
        return Context(actor=actor, settings=self.settings, loaders=LazyLoaders(), hub=self.hub,
                       websocket=websocket, after_mutation=self.after_mutation,
                       address=address, limiter=self.limiter, request_state=state,
                       revocations=self.revocations, response=response)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the service's own files (``api.graphiql``), no CDN."""
        return graphiql.page()

    def encode_json(self, data: object) -> str:
        # A str, not bytes: websocket messages must go out as text frames.
        return orjson.dumps(data).decode()

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        """Strawberry's way (``run``, and each event of a stream over HTTP) answers as the
        lean POST does (``reply``): a status other than the one set goes to the
        sub-response, the GraphQL-over-HTTP media type too, the body to
        ``create_response`` (or the stream)."""
        sub_response = getattr(request.state, "sub_response", None)
        if sub_response is None:
            return await super().process_result(request, result)
        status, media_type, data = reply(
            result, sub_response, wants_graphql_response(request))
        if status != (sub_response.status_code or 200):
            sub_response.status_code = status
        if media_type == GRAPHQL_MEDIA:
            sub_response.headers["X-Media-Type"] = GRAPHQL_RESPONSE
        return data

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """As Strawberry's, but the body is orjson's bytes as they are (``encode_json`` makes
        a str for websocket text frames, which a response would encode again), and the
        media type is the one ``process_result`` chose."""
        media_type = "application/json"
        if sub_response.headers.get("X-Media-Type") == GRAPHQL_RESPONSE:
            del sub_response.headers["X-Media-Type"]
            media_type = GRAPHQL_MEDIA.decode()
        response = Response(orjson.dumps(response_data), status_code=200,
                            media_type=media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            if self.lean and scope["method"] == "POST":
                await self._post(scope, receive, send)
            else:
                await self._http(scope, receive, send)
            return
        metrics.WEBSOCKETS.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            metrics.WEBSOCKETS.dec()
            self.closed_websockets += 1
            self.websockets.discard(scope.get("state", {}).get("websocket"))

    async def _http(self, scope: Any, receive: Any, send: Any) -> None:
        """Strawberry's HTTP handling, with its refusals (bad JSON, bad content type, a
        missing query...) answered as GraphQL errors in JSON rather than plain text."""
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = bad_request(exc.status_code, exc.reason)
        except PersistedQueryError as exc:
            response = exc.response()
        await response(scope, receive, send)

    async def parse_http_body(self, request: Any) -> Any:
        """As Strawberry parses it, but a JSON body must be an object (or a list, which is
        then refused as a batch), and one nested too deeply is refused, not a 500."""
        if request.method == "POST" and "json" in (request.content_type or ""):
            try:
                data = self.parse_json(await request.get_body())
            except RecursionError:
                raise HTTPException(400, "The request body is nested too deeply") from None
            if not isinstance(data, dict | list):
                raise HTTPException(400, "The request body must be a JSON object with a "
                                    "`query` string") from None
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and data.extensions:
            return await self.persisted.resolve(data, self.schema)  # api/graphql/persisted.py
        return data

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Not for a GET with ``extensions`` (a persisted query sent by hash alone)."""
        return "extensions" not in request.query_params and super(
        ).should_render_graphql_ide(request)

    async def create_streaming_response(self, request: Any, stream: Any,
                                        sub_response: Response, headers: Any) -> Response:
        """A subscription over HTTP (multipart or SSE) ends, with an error, when its token
        expires or is revoked, as a websocket closes, and a client holds at most
        ``max_subscriptions_per_connection`` of them at once (``api/graphql/httpsubs.py``)."""
        client = StreamCounts.client(getattr(request.state, "actor", None),
                                     request.client.host if request.client else "unknown")
        if not self.streams.take(client):
            limit = self.streams.limit
            return JSONResponse({"errors": [{
                "message": f"This client already holds {limit} subscriptions open over "
                           "HTTP; end one first, or run several on one websocket",
                "extensions": {"code": TOO_MANY_SUBSCRIPTIONS, "limit": limit}}]},
                status_code=429, headers={"Retry-After": "1"})
        try:
            transport = self._get_stream_transport_from_headers(request.headers)
            response = await super().create_streaming_response(
                request, guarded_stream(stream, request, transport, self), sub_response,
                headers)
        except BaseException:
            self.streams.give_back(client)
            raise
        return self.streams.holding(response, client)  # type: ignore[return-value]

    async def _post(self, scope: Any, receive: Any, send: Any) -> None:
        """A JSON POST of a ready document (see ``BackOrdersSchema``) without the parts of
        Strawberry's ``run`` it does not need (the method and IDE checks, the content-type
        parsing, the body through the standard ``json``, the request and response objects):
        the same context, the same ``schema.execute``, the same answer (``reply``) written
        to the socket as two ASGI messages. Any other request (another content type, a
        streaming ``Accept``, a body that is not an object with a ready document) goes to
        Strawberry's ``run`` with its body as it came. The differential tests compare both
        ways over HTTP."""
        body = await read_body(receive)
        headers = scope.get(FIRST_HEADERS)
        if headers is None:
            headers = first_headers(scope)
        data = self._ready_body(headers, body)
        if data is None:
            given = False

            async def again() -> Any:
                # The body once; then the client's own messages (a streaming response
                # waits on them for the disconnect).
                nonlocal given
                if given:
                    return await receive()
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            await self._http(scope, again, send)
            return
        sub_response = Reply()
        state = scope.setdefault("state", {})
        client = scope.get("client")
        context = self._context(state.get("actor"), client[0] if client else "unknown",
                                State(state), sub_response)
        result = await self.schema.execute(
            data["query"], variable_values=data.get("variables"), context_value=context,
            operation_name=data.get("operationName"), allowed_operation_types=POST_OPERATIONS)
        accept = headers.get(b"accept")
        status, media_type, data = reply(
            result, sub_response, prefers_graphql_response(
                accept.decode("latin-1") if accept is not None else ""))
        payload = orjson.dumps(data)
        extra = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                 for name, value in sub_response.headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-length", str(len(payload)).encode()),
            (b"content-type", media_type), *extra]})
        await send({"type": "http.response.body", "body": payload})

    def _ready_body(self, headers: dict[bytes, bytes], body: bytes) -> dict[str, Any] | None:
        content_type = headers.get(b"content-type")
        if content_type is None or content_type.decode("latin-1") not in JSON_TYPES:
            return None
        accept = headers.get(b"accept")
        if accept is not None and STREAM_ACCEPTS.search(accept.decode("latin-1")):
            return None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not isinstance(query := data.get("query"), str):
            return None
        name = data.get("operationName")
        if not isinstance(data.get("variables"), dict | None) or not isinstance(
                name, str | None) or data.get("extensions") is not None:
            return None
        schema: Any = self.schema  # a BackOrdersSchema when the view is lean
        ready = schema.documents.ready(schema._schema, query, name)
        return data if ready is not None else None

    async def close_websockets(self) -> None:
        """Shutting down: tell every client to go elsewhere (1001, going away)."""
        for websocket in list(self.websockets):
            with contextlib.suppress(Exception):
                await websocket.close(code=1001, reason="server going away; reconnect")

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The bearer token comes in ``connection_init``: {"Authorization": "Bearer ..."};
        the socket closes when it expires (``api.graphql.websocket``)."""
        params = context.connection_params or {}
        raw = next((params[k] for k in TOKEN_PARAMS if isinstance(params.get(k), str)), None)
        if raw is None:
            return None
        try:
            token = bearer(raw) if " " in raw else raw
            if token:
                known = verified(token, self.settings, self.revocations)
                context.actor, context.token_expires_at = known.actor, known.expires_at
                context.token_issued_at = known.issued_at
        except InvalidToken as exc:
            raise ConnectionRejectionError({"message": f"invalid bearer token: {exc}"}) from None
        return None
