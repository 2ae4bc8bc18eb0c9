"""Automatic persisted queries, as Apollo's clients speak them.

A request whose ``extensions.persistedQuery`` is ``{"version": 1, "sha256Hash": h}``:

- without a query, runs the document stored under ``h``; unknown, it is answered (200, as
  Apollo's servers answer) with ``PersistedQueryNotFound`` / ``PERSISTED_QUERY_NOT_FOUND``,
  and Apollo's link sends the request again with the query;
- with a query, the query's SHA-256 must be ``h`` (else 400,
  ``PERSISTED_QUERY_HASH_MISMATCH``); a valid document is stored under it, then runs.

Either way the document then goes through ``schema.execute`` like any sent one: the token,
depth, alias and cost limits apply to it as they do to every document. Documents are kept
in a bounded LRU per instance, and in Redis when ``BACKORDERS_PERSISTED_QUERY_STORAGE``
names one (so a hash learnt by one instance is known to all). With
``BACKORDERS_PERSISTED_QUERIES=false`` every such request is answered
``PERSISTED_QUERY_NOT_SUPPORTED`` and Apollo's link stops hashing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from typing import Any

from starlette.responses import JSONResponse
from strawberry.http import GraphQLRequestData

from api.settings import Settings

VERSION = 1
REDIS_PREFIX = "backorders:apq:"
REDIS_SECONDS = 7 * 86_400
NO_STORE = {"Cache-Control": "private, no-cache, must-revalidate"}
log = logging.getLogger("backorders.persisted")


class PersistedQueryError(Exception):
    """A persisted-query request refused before any GraphQL ran."""

    def __init__(self, message: str, code: str, status: int = 200) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": [{"message": self.message,
                                         "extensions": {"code": self.code}}]},
                            status_code=self.status, headers=NO_STORE)


def not_found() -> PersistedQueryError:
    return PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")


def not_supported() -> PersistedQueryError:
    return PersistedQueryError("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")


def bad(message: str, code: str = "BAD_REQUEST") -> PersistedQueryError:
    return PersistedQueryError(message, code, 400)


class PersistedQueries:
    """The documents known by hash: an LRU of ``size``, and Redis behind it when given."""

    def __init__(self, size: int, storage: str = "memory://", enabled: bool = True) -> None:
        self.size = size
        self.enabled = enabled
        self.local: OrderedDict[str, str] = OrderedDict()
        self.redis: Any = None
        if storage.startswith(("redis://", "rediss://")):
            from redis.asyncio import Redis  # only when configured

            self.redis = Redis.from_url(storage, decode_responses=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        return cls(settings.persisted_query_cache, settings.persisted_query_storage,
                   settings.persisted_queries)

    async def resolve(self, data: GraphQLRequestData, schema: Any) -> GraphQLRequestData:
        """``data`` with its query filled in from the store (or stored), and the
        ``persistedQuery`` extension taken off; raises ``PersistedQueryError``."""
        extensions = data.extensions
        if not extensions or "persistedQuery" not in extensions:
            return data
        if not self.enabled:
            raise not_supported()
        sha = _hash_of(extensions["persistedQuery"])
        rest = {k: v for k, v in extensions.items() if k != "persistedQuery"} or None
        query = data.query
        if query is None:
            query = await self.get(sha)
            if query is None:
                raise not_found()
        else:
            if hashlib.sha256(query.encode()).hexdigest() != sha:
                raise bad("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")
            if _valid(schema, query, data.operation_name):
                await self.put(sha, query)
        return GraphQLRequestData(query=query, variables=data.variables,
                                  operation_name=data.operation_name, extensions=rest,
                                  protocol=data.protocol)

    async def get(self, sha: str) -> str | None:
        query = self.local.get(sha)
        if query is not None:
            self.local.move_to_end(sha)
            return query
        if self.redis is None:
            return None
        try:
            query = await self.redis.get(REDIS_PREFIX + sha)
        except Exception as exc:  # a missing shared store is a miss: the client resends
            log.warning("persisted query store unavailable: %s", exc)
            return None
        if isinstance(query, str) and hashlib.sha256(query.encode()).hexdigest() == sha:
            self._remember(sha, query)
            return query
        return None

    async def put(self, sha: str, query: str) -> None:
        self._remember(sha, query)
        if self.redis is not None:
            try:
                await self.redis.set(REDIS_PREFIX + sha, query, ex=REDIS_SECONDS)
            except Exception as exc:
                log.warning("persisted query store unavailable: %s", exc)

    def _remember(self, sha: str, query: str) -> None:
        self.local[sha] = query
        self.local.move_to_end(sha)
        while len(self.local) > self.size:
            self.local.popitem(last=False)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def _hash_of(persisted: object) -> str:
    if not isinstance(persisted, dict):
        raise bad("extensions.persistedQuery must be an object")
    if persisted.get("version") != VERSION:
        raise bad("Unsupported persisted query version")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or len(sha) != 64 or any(
            c not in "0123456789abcdef" for c in sha.lower()):
        raise bad("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits")
    return sha.lower()


def _valid(schema: Any, query: str, operation_name: object) -> bool:
    """Only documents that parse and pass every rule are stored (garbage is not kept)."""
    documents = getattr(schema, "documents", None)
    if documents is None or not isinstance(operation_name, str | None):
        return False
    return documents.ready(schema._schema, query, operation_name) is not None
