"""The sweeper: every ``interval`` seconds, the scheduled promises are kept (a pre-order
whose release date came is released, a passed cancel-by day cancels, a late back order is
compensated, a hold whose time is up passes on, a holder is reminded before). It runs
wherever the dispatcher runs (the API process, or ``backorders worker``); every instance
may run one, since each sweep re-checks its rule under the lock of the product
(``api/services/promises.py``, ``api/services/releases.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from api.domain.promises import Compensation
from api.services import payments, promises, releases, waitlist
from api.store.outages import OUTAGES, outage_of

log = logging.getLogger("backorders.sweeper")


@dataclass(frozen=True)
class Swept:
    cancelled: int
    compensated: int
    holds_expired: int = 0
    holds_reminded: int = 0
    released: int = 0
    authorizations: int = 0

    @property
    def any(self) -> bool:
        return bool(self.cancelled or self.compensated or self.holds_expired
                    or self.holds_reminded or self.released or self.authorizations)


class Sweeper:
    def __init__(self, interval: float, compensation: Compensation | None,
                 after_change: Callable[[], None] | None = None) -> None:
        self.interval = interval
        self.compensation = compensation
        self.after_change = after_change
        """Called when a sweep changed something (wakes the relay and the dispatcher)."""
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def run_once(self, now: datetime | None = None) -> Swept:
        """One sweep of each kind, through everything due."""
        released = await releases.release_due_products(now)
        swept = Swept(await promises.cancel_overdue(now),
                      await promises.compensate_late(self.compensation, now),
                      await waitlist.expire_due(now), await waitlist.remind_due(now),
                      released, await payments.flag_expiring(now))
        if swept.any and self.after_change is not None:
            self.after_change()
        if swept.any:
            log.info("sweep: %d released, %d cancelled (cancel-by passed), %d compensated, "
                     "%d holds expired, %d holders reminded, %d authorizations flagged or "
                     "lapsed", swept.released, swept.cancelled, swept.compensated,
                     swept.holds_expired, swept.holds_reminded, swept.authorizations)
        return swept

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if (outage := outage_of(exc)) is not None:
                    OUTAGES.failed(outage)  # told once; the sweep is tried again
                else:
                    log.exception("sweep failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
