"""Settings, read from the environment (prefix ``BACKORDERS_``; ``HOST`` and ``PORT`` as is)."""

from __future__ import annotations

import ipaddress
import json
from decimal import Decimal
from typing import Literal, get_args, get_origin

from limits import parse as parse_rate
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.domain.currencies import CurrencyCode
from api.domain.holds import HoldPolicy
from api.domain.payments import AuthorizationPolicy
from api.domain.promises import Compensation

DEV_SECRET = "backorders-development-secret-change-me"
MAX_WORKERS = 1024
"""The most server processes one `backorders serve` runs (a bound on typing mistakes)."""


class Settings(BaseSettings):
    """Every setting, each with its description: the README's configuration table is made
    from this class (``backorders check-config --markdown README.md``)."""

    model_config = SettingsConfigDict(env_prefix="BACKORDERS_", extra="ignore",
                                      use_attribute_docstrings=True)

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "BACKORDERS_HOST"))
    """The address `backorders serve` listens on (`0.0.0.0` in the image)."""
    port: int = Field(
        8000, ge=0, le=65535, validation_alias=AliasChoices("PORT", "BACKORDERS_PORT")
    )
    """The port `backorders serve` listens on."""
    workers: int | None = Field(None, ge=1, le=MAX_WORKERS, json_schema_extra={
        "shown_default": "the cores in production, 1 in development"})
    """Server processes `backorders serve` runs on the one port (`--workers` wins), each with
    its own hub, sharing live events through `BACKORDERS_BROADCAST_URL`: more than one needs
    PostgreSQL or Redis there (else it refuses to start, exit code 2), and on SQLite the WAL
    journal and a busy timeout. The production default falls back to 1, saying why, where
    several could not share events. Each worker counts `memory://` rate limits and answers
    `/metrics` for itself."""
    environment: Literal["development", "production"] = "development"
    """`production` refuses the development JWT secret and turns introspection and GraphiQL
    off unless they are asked for."""
    database_url: str = "sqlite://backorders.sqlite3"
    """`sqlite://PATH` or `postgres://user:pass@host:5432/db` (add `?minsize=2&maxsize=20`
    for the pool)."""
    sqlite_journal_mode: Literal["wal", "delete", "truncate", "persist"] = "wal"
    """SQLite's journal: with WAL, readers go on while one process writes, so the API and a
    `backorders worker` can share one file."""
    sqlite_busy_timeout_ms: int = Field(5000, ge=0, le=600_000)
    """How long an SQLite write waits for another process's lock before the client gets
    `SERVICE_UNAVAILABLE`; transactions take the file's write lock when they begin, so two
    processes wait for each other instead of failing with "database is locked"
    (`?busy_timeout=` in the URL wins)."""
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    """How bearer tokens are signed."""
    jwt_secret: str = Field(DEV_SECRET, json_schema_extra={"shown_default": "a development "
                                                           "secret"})
    """The HS256 secret (32 characters or more)."""
    jwt_public_key: str | None = None
    """The PEM public key, for RS256."""
    jwt_audience: str | None = None
    """The `aud` a token must carry, checked when set."""
    jwt_issuer: str | None = None
    """The `iss` a token must carry, checked when set."""
    currency: str = Field("USD", min_length=3, max_length=3)
    """The shop's currency: an active ISO 4217 code (`api/domain/currencies.py`)."""
    graphiql: bool | None = Field(None, json_schema_extra={"shown_default": "on in "
                                                           "development"})
    """Serve GraphiQL on `GET /graphql`."""
    introspection: bool | None = Field(None, json_schema_extra={"shown_default": "on in "
                                                                "development"})
    """Answer introspection queries (`__schema`, `__type`)."""
    max_depth: int = Field(10, ge=2, le=100)
    """The deepest selection a document may nest."""
    max_tokens: int = Field(5000, ge=100, le=1_000_000)
    """The most tokens a document may have (else `GRAPHQL_PARSE_FAILED`)."""
    max_aliases: int = Field(20, ge=0, le=1000)
    """The most aliases a document may use."""
    max_cost: int = Field(25_000, ge=100, le=10_000_000)
    """A document's cost ceiling: every field costs 1 and a list's children count as often
    as its `first`, or ten."""
    max_body_bytes: int = Field(100_000, ge=1000, le=100_000_000)
    """The largest request body (else 413)."""
    cors_origins: list[str] = Field(default_factory=list)
    """The origins allowed cross-origin requests, a JSON list
    (`["https://shop.example"]`); also checked on websocket handshakes."""
    rate_limit_orders: str = "20/minute"
    """`placeOrder` per customer (then `RateLimitedError`, HTTP 429)."""
    rate_limit_orders_per_address: str = "60/minute"
    """`placeOrder` per client address."""
    rate_limit_anonymous: str = "300/minute"
    """Requests without a token, per client address (then 429 and `Retry-After`). With
    `memory://` storage a burst of the amount, then one more each period/amount seconds;
    with Redis a sliding window shared by the instances."""
    rate_limit_storage: str = "memory://"
    """Where the rate-limit counters live (the `limits` library's storage URL):
    `memory://` for one instance, `redis://host:6379/1` to share them across instances."""
    trusted_proxies: str = ""
    """The proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed:
    comma-separated addresses or networks (`10.0.0.5,10.1.0.0/16`), or `*`; with none, a
    client is the address it connects from, whatever it sends (so nobody picks their own
    address for the per-address limits)."""
    max_page_size: int = Field(100, ge=1, le=1000)
    """The largest `first` a list accepts."""
    fast_queries: bool = True
    """Let the executor complete objects whose selection is plain with compiled plans
    (queries, mutations and subscriptions alike; same validation, same answers; see
    `api/graphql/plans.py`), and let a document already validated run without Strawberry's
    extension runner and body parsing (ARCHITECTURE.md, step 3); `false` completes every
    field with its resolver and takes Strawberry's own way for every request."""
    broadcast_url: str = "memory://"
    """How instances share events: `memory://` (one instance), `postgres://...` or
    `redis://host:6379/0`."""
    revocation_poll_seconds: float = Field(2.0, gt=0, le=300)
    """How often each instance rereads the token revocations (`revokeTokens`): a revocation
    made on another instance takes effect here within this time."""
    subscriber_queue: int = Field(256, ge=8, le=100_000)
    """Events a subscriber may fall behind before it is closed."""
    max_subscriptions_per_connection: int = Field(50, ge=1, le=10_000)
    """Operations one websocket may run at once; also the subscriptions one client (a
    token's subject, or an address without a token) may hold open at once over multipart or
    SSE on each instance, one more being answered 429 `TOO_MANY_SUBSCRIPTIONS`."""
    persisted_queries: bool = True
    """Answer Apollo's automatic persisted queries (a `sha256Hash` in
    `extensions.persistedQuery`, by GET or POST); `false` answers every such request
    `PERSISTED_QUERY_NOT_SUPPORTED`, and Apollo's link then sends whole documents."""
    persisted_query_cache: int = Field(1000, ge=1, le=1_000_000)
    """Documents each instance remembers by hash (the least recently used goes first)."""
    persisted_query_storage: str = "memory://"
    """Where persisted documents are shared: `memory://` (each instance its own), or
    `redis://host:6379/2` to share them across instances (kept 7 days after last stored)."""
    gc_settle_seconds: float = Field(5.0, ge=0)
    """Every this many seconds the garbage collector collects what is new and freezes what
    survived, so a full collection does not walk every open connection (about 700 ms at
    5,000) in the middle of a fan-out; a full one runs after a quarter of the connections
    closed or once the frozen objects grew by a quarter (`api/realtime/collector.py`); `0`
    turns it off."""
    websockets: Literal["websockets-sansio", "websockets"] = "websockets-sansio"
    """uvicorn's websocket implementation (`websockets` holds more memory per
    connection)."""
    ws_per_message_deflate: bool = False
    """`true` agrees to permessage-deflate when a client offers it (browsers do): less
    bandwidth for large messages, but each connection keeps a zlib compressor and
    decompressor, so an idle subscriber costs the server about 72 KiB instead of 33."""
    notify_email_url: str | None = None
    """The Apprise URL for email; `{to}` becomes the customer's address, e.g.
    `mailtos://user:pass@smtp.example.com?from=shop@example.com&to={to}`."""
    notify_sms_url: str | None = None
    """The Apprise URL for SMS (`{to}` is the phone number)."""
    notify_push_url: str | None = None
    """The Apprise URL for push messages (`{to}` is the device)."""
    notify_staff_url: str | None = None
    """The Apprise URL for messages to staff."""
    notify_templates: str | None = None
    """A folder whose templates override the built-in ones."""
    notify_coalesce_seconds: float = Field(60, ge=0, le=86_400)
    """How long date changes are held, so a burst becomes one message with the final
    date."""
    notify_max_attempts: int = Field(8, ge=1, le=100)
    """Attempts before a message is `FAILED`."""
    notify_backoff_seconds: float = Field(2, gt=0, le=3600)
    """The base delay of the exponential backoff between attempts (with jitter)."""
    notify_lease_seconds: float = Field(60, gt=0, le=3600)
    """How long a dispatcher's claim on a message lasts before another may take it."""
    notify_concurrency: int = Field(10, ge=1, le=500)
    """Sends one dispatcher has in flight at once."""
    notify_batch: int = Field(50, ge=1, le=1000)
    """The most messages one dispatcher claims in one round (never more than
    `BACKORDERS_NOTIFY_CONCURRENCY`, since a claim's lease runs from the claim)."""
    notify_stop_grace_seconds: float = Field(5, ge=0, le=600)
    """On SIGTERM, how long a dispatcher lets the sends it has begun finish; one still
    unanswered after it is logged `UNKNOWN` and sent again by the next dispatcher."""
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
    public_url: str | None = None
    """The base of the order links in messages."""
    sweep_seconds: float = Field(60, gt=0, le=3600)
    """How often the scheduled promises are kept (a cancel-by day passed, compensation owed),
    wherever the dispatcher runs; each is done exactly once, whichever instance finds it."""
    compensation_after_days: int | None = Field(None, ge=0, le=365)
    """The shop's compensation for late back orders: an open back order more than this many
    days past its promised date is credited once (with `BACKORDERS_COMPENSATION_AMOUNT` or
    `_PERCENT`); a product's own policy wins. Unset: none."""
    compensation_amount: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=2)
    """The shop's compensation as a fixed credit (at most what the back order cost)."""
    compensation_percent: Decimal | None = Field(None, gt=0, le=100, decimal_places=2)
    """The shop's compensation as a percent of what the back order cost."""
    hold_minutes: int = Field(24 * 60, ge=1, le=60 * 24 * 30)
    """How long a waitlister may claim the units held for them (notify-me) before the hold
    expires and passes to the next one in line."""
    hold_reminder_minutes: int = Field(120, ge=0, le=60 * 24 * 30)
    """A holder is reminded this many minutes before the hold expires (once); 0: never.
    Less than `BACKORDERS_HOLD_MINUTES`."""
    authorization_valid_days: int = Field(7, ge=1, le=60)
    """Days a payment authorization holds the customer's money (products paid `ON_RELEASE`
    are authorized at order and captured when their units are set aside); no payment
    provider is called, the service records amounts and states."""
    authorization_notice_hours: int = Field(24, ge=0, le=24 * 59)
    """An open authorization is flagged this many hours before it lapses: its customer is
    told (AUTHORIZATION_EXPIRING) and it is on the staff's `expiringAuthorizations` list.
    Less than `BACKORDERS_AUTHORIZATION_VALID_DAYS` in hours."""
    reorder_service_level: float = Field(0.95, gt=0.5, lt=0.999)
    """The chance a reorder suggestion aims for that stock covers demand over the lead time
    (its safety stock's z); `reorderSuggestion(serviceLevel:)` may ask for another."""

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("use sqlite://PATH or postgres://user:password@host:port/db")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CurrencyCode.__members__:
            raise ValueError("use an active ISO 4217 code in capitals, such as USD or EUR")
        return value

    @field_validator("persisted_query_storage")
    @classmethod
    def _persisted_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("use memory:// or redis://host:port/db")
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
        if self.compensation_amount is not None and self.compensation_percent is not None:
            raise ValueError("set BACKORDERS_COMPENSATION_AMOUNT or _PERCENT, not both")
        has_credit = (self.compensation_amount or self.compensation_percent) is not None
        if has_credit != (self.compensation_after_days is not None):
            raise ValueError("BACKORDERS_COMPENSATION_AFTER_DAYS and one of "
                             "BACKORDERS_COMPENSATION_AMOUNT or _PERCENT go together")
        if self.authorization_notice_hours >= self.authorization_valid_days * 24:
            raise ValueError("BACKORDERS_AUTHORIZATION_NOTICE_HOURS must be less than "
                             "BACKORDERS_AUTHORIZATION_VALID_DAYS in hours")
        if self.hold_reminder_minutes >= self.hold_minutes:
            raise ValueError("BACKORDERS_HOLD_REMINDER_MINUTES must be less than "
                             "BACKORDERS_HOLD_MINUTES (or 0 for no reminder)")
        return self

    @property
    def authorizations(self) -> AuthorizationPolicy:
        """How long an authorization holds money and when it is flagged."""
        return AuthorizationPolicy(self.authorization_valid_days,
                                   self.authorization_notice_hours)

    @property
    def holds(self) -> HoldPolicy:
        """How long a waitlister's hold lasts and when they are reminded."""
        return HoldPolicy(self.hold_minutes, self.hold_reminder_minutes)

    @property
    def compensation(self) -> Compensation | None:
        """The shop's compensation policy for late back orders, or None."""
        if self.compensation_after_days is None:
            return None
        return Compensation(self.compensation_after_days, self.compensation_amount,
                            self.compensation_percent)

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
        for key in ("database_url", "broadcast_url", "rate_limit_storage",
                    "persisted_query_storage", "notify_email_url", "notify_sms_url",
                    "notify_push_url", "notify_staff_url"):
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


TABLE_BEGIN = ("<!-- begin settings table: made from api/settings.py by"
               " `backorders check-config --markdown README.md`; do not edit by hand -->")
TABLE_END = "<!-- end settings table -->"


def settings_table() -> str:
    """The configuration table (Markdown): one row per field of ``Settings``."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `{_variable(name, field)}` | {_shown_default(field)} "
                    f"| {_meaning(field)} |")
    return "\n".join(rows) + "\n"


def with_settings_table(text: str) -> str:
    """``text`` (the README) with the part between the table's markers made anew."""
    before, begin, rest = text.partition(TABLE_BEGIN)
    _, end, after = rest.partition(TABLE_END)
    if not begin or not end:
        raise ValueError(f"no {TABLE_BEGIN!r} ... {TABLE_END!r} in the text")
    return f"{before}{TABLE_BEGIN}\n{settings_table()}{TABLE_END}{after}"


def _variable(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"BACKORDERS_{name.upper()}"


def _shown_default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    value = field.get_default(call_default_factory=True)
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _meaning(field: FieldInfo) -> str:
    text = " ".join((field.description or "").split()).replace("|", "\\|")
    if get_origin(field.annotation) is Literal:
        text += " One of " + ", ".join(f"`{choice}`" for choice in get_args(field.annotation))
        text += "."
    return text
