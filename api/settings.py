"""Settings, read from the environment (prefix ``BACKORDERS_``; ``HOST`` and ``PORT`` as is)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator
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
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: str = DEV_SECRET
    jwt_public_key: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    currency: str = Field("USD", min_length=3, max_length=3)
    graphiql: bool = True
    max_page_size: int = Field(100, ge=1, le=1000)
    broadcast_url: str = Field(
        "memory://", description="memory:// (one instance), postgres://... or redis://..."
    )
    subscriber_queue: int = Field(256, ge=8, le=100_000)

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        if self.jwt_algorithm == "RS256" and not self.jwt_public_key:
            raise ValueError("BACKORDERS_JWT_PUBLIC_KEY is required with RS256")
        if self.jwt_algorithm == "HS256" and len(self.jwt_secret) < 32:
            raise ValueError("BACKORDERS_JWT_SECRET must be at least 32 characters")
        if self.environment == "production" and self.jwt_secret == DEV_SECRET:
            raise ValueError("BACKORDERS_JWT_SECRET is the development secret: set your own")
        return self
