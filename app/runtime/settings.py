"""Settings from `FAULTLINE_*` environment variables, a TOML settings file, or command options.

Precedence, highest first: command-line options, environment, settings file, defaults.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from app.slo.durations import DurationError, parse_duration

SETTINGS_FILE_ENV = "FAULTLINE_SETTINGS_FILE"


def _seconds(value: Any) -> Any:
    if isinstance(value, str) and not value.strip().isdigit():
        try:
            return parse_duration(value)
        except DurationError as error:
            raise ValueError(str(error)) from None
    return value


Seconds = Annotated[int, BeforeValidator(_seconds)]


class Settings(BaseSettings):
    """Everything an operator can set. Defaults run the demo on one machine."""

    model_config = SettingsConfigDict(
        env_prefix="FAULTLINE_", extra="ignore", validate_default=True, frozen=True
    )

    definitions: Path = Path("slo_definitions")
    alerts: Path = Path("alerts")
    dashboards: Path = Path("dashboards")

    prometheus_url: str = "http://127.0.0.1:9090"
    prometheus_bearer_token: SecretStr | None = None
    prometheus_username: str | None = None
    prometheus_password: SecretStr | None = None
    prometheus_headers: dict[str, str] = Field(default_factory=dict)
    prometheus_verify_tls: bool = True
    prometheus_timeout: float = Field(default=15.0, gt=0, le=300)
    prometheus_retries: int = Field(default=3, ge=0, le=10)
    prometheus_backoff: float = Field(default=0.5, gt=0, le=30)
    prometheus_backoff_cap: float = Field(default=8.0, gt=0, le=300)
    # Prometheus refuses range queries over 11,000 points per series; stay well under it.
    prometheus_max_points: int = Field(default=10_000, ge=10, le=11_000)
    prometheus_concurrency: int = Field(default=4, ge=1, le=64)

    database_url: str = "sqlite:///faultline.db"

    evaluation_delay: Seconds = Field(default=60, ge=0)
    stale_after: Seconds = Field(default=300, gt=0)
    initial_backfill: Seconds | None = None
    history_limit: Seconds = Field(default=90 * 86400, gt=0)
    # How long the evaluator lease and backfill job claims hold unrenewed: the longest a dead
    # evaluator or backfill goes unreplaced.
    lease_seconds: Seconds = Field(default=60, ge=2, le=3600)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None
    api_token: SecretStr | None = None
    require_token_for_reads: bool = False
    scheduler_enabled: bool = True

    @field_validator("prometheus_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "must be sqlite:///PATH or postgresql://USER@HOST:PORT/DB (psycopg 3 is used)"
            )
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    def accepts_token(self, presented: str | None) -> bool:
        """Whether `presented` is the API token (compared in constant time)."""
        if self.api_token is None or not presented:
            return False
        return secrets.compare_digest(
            presented.encode(), self.api_token.get_secret_value().encode()
        )

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        import os  # noqa: PLC0415 - read once, only here

        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        settings_file = os.environ.get(SETTINGS_FILE_ENV)
        if settings_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(settings_file)))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Settings with command-line overrides; options left unset (None) fall through."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
