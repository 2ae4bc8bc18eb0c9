"""schemathesis hooks: strategies for our custom scalars, and the check that matters here.

Typed client errors (INVALID_INPUT, NOT_FOUND, ...) are the API working as designed; what
must never appear is a 5xx, an unexpected exception (masked as INTERNAL_ERROR), or an
error without a code (every error says what kind it is, the request's own ones included).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

schemathesis.graphql.scalar(
    "Decimal", st.decimals(min_value=-10**6, max_value=10**6, places=2).map(
        lambda d: nodes.String(str(d))))
schemathesis.graphql.scalar("Date", st.dates().map(lambda d: nodes.String(d.isoformat())))
schemathesis.graphql.scalar("DateTime", st.datetimes().map(
    lambda d: nodes.String(d.isoformat())))
schemathesis.graphql.scalar("JSON", st.just(nodes.String("{}")))


@schemathesis.check
def no_server_fault(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return
    for error in (body or {}).get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL_ERROR":
            raise AssertionError(f"unexpected exception: {error['message']}")
        if not code:
            raise AssertionError(f"an error without a code: {error['message']}")
