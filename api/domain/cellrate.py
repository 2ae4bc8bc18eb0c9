"""A rate limit held in one process: the generic cell rate algorithm (GCRA).

``amount`` requests per ``period`` seconds: a burst of ``amount`` at once, then one more
every ``period / amount`` seconds, so over any span of ``s`` seconds at most ``amount +
s * amount / period`` get through (right after a burst one period can see nearly twice the
amount, where a sliding window would let fewer through). One number per key (when its
allowance is all back), and a microsecond or two a hit, where the ``limits`` library's
sliding-window counter in memory costs about twenty (a twentieth of a simple read). Shared
limits (Redis) stay with ``limits``.
"""

from __future__ import annotations

EPSILON = 1e-9
"""Seconds: a wait shorter than this is floating-point rounding, not a refusal."""


class CellRate:
    """``hit(key, now)``: None when allowed (and counted), else the seconds to wait."""

    __slots__ = ("_theoretical", "interval", "max_keys", "period")

    def __init__(self, amount: int, period: float, max_keys: int = 100_000) -> None:
        if amount < 1 or period <= 0:
            raise ValueError("a rate needs at least one request in a positive period")
        self.period = float(period)
        self.interval = self.period / amount
        self.max_keys = max_keys
        self._theoretical: dict[str, float] = {}
        """Per key, the theoretical arrival time: when its allowance is all back."""

    def hit(self, key: str, now: float) -> float | None:
        known = self._theoretical.get(key)
        start = now if known is None or known < now else known
        after = start + self.interval
        wait = after - self.period - now
        if wait > EPSILON:  # (a client at exactly the rate is not refused by a rounding)
            return min(wait, self.period)  # (never longer than a period, rounding or not)
        if known is None and len(self._theoretical) >= self.max_keys:
            self._forget(now)
        self._theoretical[key] = after
        return None

    def _forget(self, now: float) -> None:
        """Drop the keys whose allowance is all back (they are as if never seen); if that
        is not enough, the whole table (a flood of addresses must not grow it forever)."""
        spent = {k: t for k, t in self._theoretical.items() if t > now}
        self._theoretical = spent if len(spent) < self.max_keys else {}

    def __len__(self) -> int:
        return len(self._theoretical)
