"""A delivery's request: its Standard Webhooks headers, signed by ``standardwebhooks``."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook

from api.domain.webhooks import webhook_id

USER_AGENT = "Backorders-Webhooks/1"


def headers(delivery_id: int, body: str, secrets: list[str], at: datetime) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (one ``v1,`` signature
    per secret, space-separated, as the specification allows during a rotation)."""
    msg_id = webhook_id(delivery_id)
    signatures = " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
