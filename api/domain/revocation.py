"""Revoked tokens: staff revoke every token of a subject issued up to a moment.

A token is refused when its subject has a revocation and the token was issued (its ``iat``,
a Unix time) at or before it. A token without ``iat`` cannot show it is newer: refused too.
``Revocations`` is one instance's copy of the table, read on the hot path without a query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from itertools import count


def revoked(issued_at: float | None, revoked_before: float | None) -> bool:
    """Whether a token issued at ``issued_at`` falls under ``revoked_before``."""
    if revoked_before is None:
        return False
    return issued_at is None or issued_at <= revoked_before


class Revocations:
    """Subject -> revoked_before (Unix time), only ever raised; and the open sockets of each
    subject, told (once) when a revocation covers their token."""

    def __init__(self) -> None:
        self.before: dict[str, float] = {}
        self._watchers: dict[str, dict[int, tuple[float | None, Callable[[], None]]]] = {}
        self._ids = count()

    def refuses(self, subject: str, issued_at: float | None) -> bool:
        return revoked(issued_at, self.before.get(subject))

    def update(self, rows: Mapping[str, float]) -> None:
        """Take what the table says (a newer value wins); tell the sockets it covers."""
        for subject, before in rows.items():
            if before > self.before.get(subject, float("-inf")):
                self.before[subject] = before
                self._tell(subject, before)

    def watch(self, subject: str, issued_at: float | None,
              on_revoked: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_revoked`` once if a revocation comes to cover this token; returns the
        function that stops watching."""
        watcher_id = next(self._ids)
        self._watchers.setdefault(subject, {})[watcher_id] = (issued_at, on_revoked)
        return partial(self._unwatch, subject, watcher_id)  # smaller than a closure

    def _unwatch(self, subject: str, watcher_id: int) -> None:
        group = self._watchers.get(subject)
        if group is not None:
            group.pop(watcher_id, None)
            if not group:
                del self._watchers[subject]

    def _tell(self, subject: str, before: float) -> None:
        group = self._watchers.get(subject, {})
        for watcher_id, (issued_at, on_revoked) in list(group.items()):
            if revoked(issued_at, before):
                del group[watcher_id]
                on_revoked()
        if not group:
            self._watchers.pop(subject, None)

    @property
    def watched(self) -> int:
        return sum(len(group) for group in self._watchers.values())
