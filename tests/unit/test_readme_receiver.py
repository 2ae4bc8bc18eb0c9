"""The README's webhook receiver, run as written: it takes a signed delivery once, drops its
retry, and refuses a tampered body."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from api.domain.webhooks import secret
from api.webhooks import signing

ROOT = Path(__file__).resolve().parents[2]


def _receiver() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict[str, Any] = {"__name__": "readme_receiver"}
    exec(compile(code, "README.md (Webhooks)", "exec"), namespace)
    return namespace


async def test_the_readme_receiver_verifies_deduplicates_and_refuses_tampering(
        capsys: Any) -> None:
    receiver = _receiver()
    key = receiver["SECRET"]
    assert secret(key) == key  # the README's example secret is one the API accepts
    body = '{"type":"back_order.updated","timestamp":"2026-01-01T00:00:00+00:00",' \
           '"data":{"id":3,"version":2}}'
    headers = signing.headers(41, body, [key], datetime.now(UTC))
    transport = httpx.ASGITransport(app=receiver["app"])
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        for _ in range(2):  # the second is a retry: acknowledged, not processed again
            answer = await client.post("/backorders", content=body, headers=headers)
            assert answer.status_code == 204
        assert capsys.readouterr().out.splitlines() == ["back_order.updated 3 2"]
        tampered = body.replace('"version":2', '"version":3')
        answer = await client.post("/backorders", content=tampered, headers=headers)
        assert answer.status_code == 400
