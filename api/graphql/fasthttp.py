"""In front of the GraphQL view: a JSON POST whose document has a plan (``fastquery``) is
answered here; everything else, and anything the plan does not answer, goes to the view
with the request body as it came."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.graphql.fastquery import Committed, QueryPlan, Request
from api.graphql.view import GRAPHQL_RESPONSE, prefers_graphql_response
from api.settings import Settings

JSON_KINDS = ("application/json", GRAPHQL_RESPONSE)
GRAPHQL_RESPONSE_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8".encode()


class FastQueries:
    def __init__(self, view: ASGIApp, plan: Callable[[str, str | None], QueryPlan | None],
                 settings: Settings, limiter: Any = None,
                 after_mutation: Callable[[], None] | None = None) -> None:
        self.view = view
        self.plan = plan
        self.settings = settings
        self.limiter = limiter
        self.after_mutation = after_mutation
        self._meters: dict[str, tuple[Any, Any]] = {}
        """The labelled children of the request metrics, by plan label (a label lookup
        takes a lock and a tuple; a plan answers thousands of requests a second)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.view(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not headers.get("content-type", "").startswith("application/json"):
            await self.view(scope, receive, send)
            return
        body = await _read(receive)
        replay = _replay(body, receive)
        response_type = _response_type(headers.get("accept"))
        plan, variables = self._planned(body) if response_type else (None, None)
        if plan is None:
            await self.view(scope, replay, send)
            return
        start = time.perf_counter()
        state = scope.setdefault("state", {})
        client = scope.get("client")
        request = Request(state.get("actor"), self.settings.max_page_size,
                          self.settings.currency, limiter=self.limiter,
                          address=client[0] if client else "unknown", state=state,
                          after_mutation=self.after_mutation)
        try:
            data = await plan.run(variables, request)
        except Committed:
            raise  # a 500: running it again would answer "replayed"
        except Exception:  # the executor answers it, errors and all
            await self.view(scope, replay, send)
            return
        content = orjson.dumps({"data": data})
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", response_type),
            (b"content-length", str(len(content)).encode()),
        ]})
        await send({"type": "http.response.body", "body": content})
        state["operation"] = plan.label
        meters = self._meters.get(plan.label)
        if meters is None:
            meters = self._meters[plan.label] = (metrics.REQUESTS.labels(plan.label, "ok"),
                                                 metrics.LATENCY.labels(plan.label))
        meters[0].inc()
        meters[1].observe(time.perf_counter() - start)

    def _planned(self, body: bytes) -> tuple[QueryPlan | None, Any]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None, None
        if not isinstance(payload, dict):
            return None, None
        query, name = payload.get("query"), payload.get("operationName")
        variables = payload.get("variables")
        if (not isinstance(query, str) or not isinstance(name, str | None)
                or not isinstance(variables, dict | None)
                or not isinstance(payload.get("extensions"), dict | None)):
            return None, None
        return self.plan(query, name), variables


def _response_type(accept: str | None) -> bytes | None:
    """The media type the view would answer with; None: a case for the view itself."""
    if not accept:
        return b"application/json"
    kinds = {part.split(";")[0].strip() for part in accept.split(",")}
    if not kinds & {*JSON_KINDS, "*/*", "application/*"}:
        return None
    if prefers_graphql_response(accept):
        return GRAPHQL_RESPONSE_TYPE
    return b"application/json"


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # disconnected: nothing to answer
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
