"""A dispatcher configured from the settings."""

from __future__ import annotations

from datetime import timedelta

from api.notifications.dispatcher import Dispatcher, DispatchSettings
from api.settings import Settings
from api.store.database import is_postgres


def dispatcher_from(settings: Settings, name: str | None = None) -> Dispatcher:
    config = DispatchSettings(
        urls={"EMAIL": settings.notify_email_url, "SMS": settings.notify_sms_url,
              "PUSH": settings.notify_push_url, "STAFF": settings.notify_staff_url},
        currency=settings.currency,
        public_url=settings.public_url,
        template_dir=settings.notify_templates,
        coalesce=timedelta(seconds=settings.notify_coalesce_seconds),
        max_attempts=settings.notify_max_attempts,
        backoff_base=settings.notify_backoff_seconds,
        lease=timedelta(seconds=settings.notify_lease_seconds),
        concurrency=settings.notify_concurrency,
        batch=settings.notify_batch,
        stop_grace=settings.notify_stop_grace_seconds,
    )
    return Dispatcher(config, postgres=is_postgres(settings.database_url), name=name)
