"""Settings, read from the environment (prefix ``BACKORDERS_``; ``HOST`` and ``PORT`` as is)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
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
