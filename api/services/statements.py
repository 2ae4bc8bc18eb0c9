"""Moved to ``api.store.statements``: the hand-written SQL belongs to the store.

Kept only until ``api/realtime/relay.py`` and ``tests/integration/test_snapshot_columns.py``
(being edited by others) import ``api.store.statements``; then delete this module.
"""

from api.store.statements import fetch, insert_values

__all__ = ["fetch", "insert_values"]
