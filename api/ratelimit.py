"""Rate limits (the ``limits`` library): placeOrder per customer and per address, and
requests without a token per address. Memory by default; Redis to share across instances."""

from __future__ import annotations

import math
import time
from typing import Any

from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.responses import JSONResponse

from api.domain.cellrate import CellRate
from api.domain.errors import RateLimited
from api.settings import Settings


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        uri = f"async+{settings.rate_limit_storage}"
        # redis-py (already here for broadcaster) rather than limits' default, coredis.
        options = {"implementation": "redispy"} if uri.startswith("async+redis") else {}
        # A sliding-window counter: two numbers per key, however busy the key is (a moving
        # window keeps every hit, which grows and costs under load).
        self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri, **options))
        self.orders = parse(settings.rate_limit_orders)
        self.orders_per_address = parse(settings.rate_limit_orders_per_address)
        self.anonymous = parse(settings.rate_limit_anonymous)
        # In one process's memory, the anonymous limit (checked on every request without a
        # token) is a cell rate: the same rate and burst, about a twentieth of the cost
        # (api/domain/cellrate.py says how its edge differs from the sliding window).
        self._local = (CellRate(self.anonymous.amount, self.anonymous.get_expiry())
                       if uri == "async+memory://" else None)

    async def check_order(self, subject: str, address: str) -> None:
        """Raise ``RateLimited`` when this customer or address ordered too often."""
        for item, key in ((self.orders, f"subject:{subject}"),
                          (self.orders_per_address, f"address:{address}")):
            if not await self._limiter.hit(item, "order", key):
                raise RateLimited(await self._retry_after(item, "order", key))

    async def check_anonymous(self, address: str) -> float | None:
        """Seconds to wait when an address without a token asked too often, else None."""
        if self._local is not None:
            wait = self._local.hit(address, time.monotonic())
            return None if wait is None else max(wait, 1.0)
        if await self._limiter.hit(self.anonymous, "anonymous", address):
            return None
        return await self._retry_after(self.anonymous, "anonymous", address)

    async def _retry_after(self, item: object, *keys: str) -> float:
        stats = await self._limiter.get_window_stats(item, *keys)  # type: ignore[arg-type]
        return max(stats.reset_time - time.time(), 1.0)


def rate_limited(wait: float) -> dict[str, Any]:
    """The GraphQL error of a refusal: on HTTP in a 429, on a websocket for the operation."""
    seconds = math.ceil(wait)
    return {"message": f"too many requests: retry in {seconds} s",
            "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": seconds}}


def too_many(wait: float) -> JSONResponse:
    return JSONResponse({"errors": [rate_limited(wait)]}, status_code=429,
                        headers={"Retry-After": str(math.ceil(wait))})
