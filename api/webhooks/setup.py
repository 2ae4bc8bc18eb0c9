"""A webhook dispatcher configured from the settings."""

from __future__ import annotations

from datetime import timedelta

from api.settings import Settings
from api.store.database import is_postgres
from api.webhooks.dispatcher import WebhookDispatcher, WebhookSettings


def webhooks_from(settings: Settings, name: str | None = None) -> WebhookDispatcher:
    config = WebhookSettings(
        concurrency=settings.webhook_concurrency,
        per_endpoint=settings.webhook_per_endpoint,
        timeout=settings.webhook_timeout_seconds,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
        max_attempts=settings.webhook_max_attempts,
        backoff_base=settings.webhook_backoff_seconds,
        backoff_cap=settings.webhook_backoff_cap_seconds,
        stop_grace=settings.notify_stop_grace_seconds,
        allow_private=settings.webhook_private_allowed,
        keep=timedelta(days=settings.webhook_keep_days),
    )
    return WebhookDispatcher(config, postgres=is_postgres(settings.database_url), name=name)
