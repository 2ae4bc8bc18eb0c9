"""Rate limits count in Redis when told to, so several instances share them."""

from __future__ import annotations

import pytest

from api.domain.errors import RateLimited
from api.ratelimit import RateLimits
from api.settings import Settings
from tests.redisserver import RedisServer


async def test_two_instances_share_one_order_limit_in_redis(redis_server: RedisServer) -> None:
    settings = Settings(rate_limit_orders="3/minute", rate_limit_storage=redis_server.url)
    first, second = RateLimits(settings), RateLimits(settings)
    for limits in (first, second, first):
        await limits.check_order("alice", "10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        await second.check_order("alice", "10.0.0.2")
    assert refused.value.retry_after >= 1
    await second.check_order("bob", "10.0.0.3")  # others are not affected
