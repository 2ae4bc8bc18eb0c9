"""Settings, read from the environment (prefix ``BACKORDERS_``; ``HOST`` and ``PORT`` as is)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from limits import parse as parse_rate
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "backorders-development-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKORDERS_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "BACKORDERS_HOST"))
    port: int = Field(
        8000, ge=0, le=65535, validation_alias=AliasChoices("PORT", "BACKORDERS_PORT")
    )
    database_url: str = "sqlite://backorders.sqlite3"
    sqlite_journal_mode: Literal["wal", "delete", "truncate", "persist"] = "wal"
    """SQLite's journal: WAL lets readers go on while one process writes (the API and a
    ``backorders worker`` on one file)."""
    sqlite_busy_timeout_ms: int = Field(5000, ge=0, le=600_000)
    """How long an SQLite write waits for another process's lock before it fails (and the
    client gets SERVICE_UNAVAILABLE)."""
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: str = DEV_SECRET
    jwt_public_key: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    currency: str = Field("USD", min_length=3, max_length=3)
    graphiql: bool | None = Field(None, description="default: on in development only")
    introspection: bool | None = Field(None, description="default: on in development only")
    max_depth: int = Field(10, ge=2, le=100)
    max_tokens: int = Field(5000, ge=100, le=1_000_000)
    max_aliases: int = Field(20, ge=0, le=1000)
    max_cost: int = Field(25_000, ge=100, le=10_000_000)
    max_body_bytes: int = Field(100_000, ge=1000, le=100_000_000)
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_orders: str = Field("20/minute", description="placeOrder per customer")
    rate_limit_orders_per_address: str = Field("60/minute", description="placeOrder per IP")
    rate_limit_anonymous: str = Field("300/minute", description="requests without a token, per IP")
    rate_limit_storage: str = Field("memory://", description="limits storage, e.g. redis://")
    trusted_proxies: str = ""
    """The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, comma-separated
    addresses or networks (``10.0.0.5,10.1.0.0/16``), or ``*`` for any. Empty (the default):
    none, so each client is the address it connects from, whatever headers it sends."""
    max_page_size: int = Field(100, ge=1, le=1000)
    fast_queries: bool = True
    """Complete plain selections by compiled plans (api/graphql/plans.py); off: resolvers."""
    broadcast_url: str = Field(
        "memory://", description="memory:// (one instance), postgres://... or redis://..."
    )
    subscriber_queue: int = Field(256, ge=8, le=100_000)
    max_subscriptions_per_connection: int = Field(50, ge=1, le=10_000)
    gc_settle_seconds: float = Field(5.0, ge=0)
    revocation_poll_seconds: float = Field(2.0, gt=0, le=300)
    """How often each instance rereads the token revocations (the table is the truth; a
    revocation reaches the other instances within this time)."""
    """Every this many seconds, collect new garbage and freeze what survived, so that full
    collections do not walk long-lived connections (api/realtime/collector.py); 0: off."""
    websockets: Literal["websockets-sansio", "websockets"] = "websockets-sansio"
    """uvicorn's websocket implementation."""
    ws_per_message_deflate: bool = False
    """Agree to permessage-deflate when a client offers it (browsers always do). Off by
    default: each compressed connection keeps a zlib compressor and decompressor (about
    40 KiB resident), more than everything else an idle subscriber holds (about 33 KiB),
    and our messages are small JSON documents, so the bandwidth saved is modest."""
    # Notifications: Apprise URLs; {to} becomes the customer's address, e.g.
    # mailtos://user:pass@smtp.example.com?from=shop@example.com&to={to}
    notify_email_url: str | None = None
    notify_sms_url: str | None = None
    notify_push_url: str | None = None
    notify_staff_url: str | None = None
    notify_templates: str | None = Field(None, description="a folder that overrides templates")
    notify_coalesce_seconds: float = Field(60, ge=0, le=86_400)
    notify_max_attempts: int = Field(8, ge=1, le=100)
    notify_backoff_seconds: float = Field(2, gt=0, le=3600)
    notify_lease_seconds: float = Field(60, gt=0, le=3600)
    notify_concurrency: int = Field(10, ge=1, le=500)
    notify_batch: int = Field(50, ge=1, le=1000)
    notify_stop_grace_seconds: float = Field(5, ge=0, le=600)
    """On SIGTERM, how long a dispatcher lets the sends it has begun finish; one still
    unanswered after it is logged UNKNOWN and sent again by the next dispatcher."""
    dispatcher: Literal["inprocess", "off"] = "inprocess"
    """Where notifications and webhooks are sent from: ``inprocess`` (the API), or ``off``
    when ``backorders worker`` runs apart."""
    webhook_allow_private: bool | None = None
    """Deliver webhooks to private, loopback and link-local addresses (and ``localhost``).
    Default: allowed in development, refused in production (a webhook must not reach into
    the shop's own network, nor a cloud's metadata address)."""
    webhook_timeout_seconds: float = Field(10, gt=0, le=300)
    """How long a receiver may take to answer before the attempt counts as failed."""
    webhook_max_attempts: int = Field(10, ge=1, le=100)
    """Attempts before a delivery is DEAD (staff may retry it with retryWebhookDelivery)."""
    webhook_backoff_seconds: float = Field(5, gt=0, le=3600)
    """The wait after the first failed attempt; it doubles with each one (with jitter)."""
    webhook_backoff_cap_seconds: float = Field(3600, gt=0, le=86_400)
    """The longest wait between two attempts."""
    webhook_concurrency: int = Field(20, ge=1, le=1000)
    """Webhook sends in flight per dispatcher."""
    webhook_per_endpoint: int = Field(4, ge=1, le=1000)
    """Of those, at most this many to one endpoint, so a slow one cannot take them all."""
    webhook_lease_seconds: float = Field(60, gt=0, le=3600)
    """A claimed delivery's lease; after it another dispatcher may send it again. Longer
    than the timeout."""
    webhook_secret_overlap_hours: float = Field(24, ge=0, le=24 * 30)
    """After rotateWebhookSecret, how long the old secret still signs beside the new one
    (unless the mutation says otherwise)."""
    webhook_keep_days: float = Field(7, gt=0, le=3650)
    """How long delivered deliveries stay in the delivery log."""
    public_url: str | None = Field(None, description="base of links in messages")

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("use sqlite://PATH or postgres://user:password@host:port/db")
        return value

    @field_validator("broadcast_url")
    @classmethod
    def _broadcast(cls, value: str) -> str:
        if not value.startswith(("memory://", "postgres://", "postgresql://", "redis://",
                                 "rediss://")):
            raise ValueError("use memory://, postgres://... or redis://...")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            if item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is no address or network") from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @field_validator("rate_limit_orders", "rate_limit_orders_per_address",
                     "rate_limit_anonymous")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_rate(value)
        except ValueError:
            raise ValueError("a rate such as 20/minute or 5/second") from None
        return value

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        if self.jwt_algorithm == "RS256" and not self.jwt_public_key:
            raise ValueError("BACKORDERS_JWT_PUBLIC_KEY is required with RS256")
        if self.jwt_algorithm == "HS256" and len(self.jwt_secret) < 32:
            raise ValueError("BACKORDERS_JWT_SECRET must be at least 32 characters")
        if self.environment == "production" and self.jwt_secret == DEV_SECRET:
            raise ValueError("BACKORDERS_JWT_SECRET is the development secret: set your own")
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError("BACKORDERS_WEBHOOK_LEASE_SECONDS must be longer than "
                             "BACKORDERS_WEBHOOK_TIMEOUT_SECONDS")
        return self

    @property
    def webhook_private_allowed(self) -> bool:
        if self.webhook_allow_private is not None:
            return self.webhook_allow_private
        return self.environment == "development"

    @property
    def graphiql_on(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment == "development"

    @property
    def introspection_on(self) -> bool:
        if self.introspection is not None:
            return self.introspection
        return self.environment == "development"

    def masked(self) -> dict[str, object]:
        """What the service would run with, secrets masked (for ``check-config``)."""
        values = self.model_dump()
        for key in ("jwt_secret",):
            values[key] = "*** (development secret)" if values[key] == DEV_SECRET else "***"
        for key in ("database_url", "broadcast_url", "rate_limit_storage", "notify_email_url",
                    "notify_sms_url", "notify_push_url", "notify_staff_url"):
            if values.get(key):
                values[key] = _mask_url(str(values[key]))
        return values


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
