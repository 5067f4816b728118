"""Settings from `FAULTLINE_*` environment variables, a TOML settings file, or command options.

Precedence, highest first: command-line options, environment, settings file, defaults.

The sources are read here, as pydantic-settings read them (environment names in any case,
values as text; the file's tables merged key by key under values given for the same table),
on a plain pydantic model: importing pydantic-settings cost a tenth of a short command's
start-up.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
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


def env_name(field: str) -> str:
    return f"FAULTLINE_{field.upper()}"


def _readable_file(value: Any, info: ValidationInfo) -> Any:
    """A file setting names a file that can be read now; secret files must not be empty."""
    if value is None or value == "":
        return None
    path = Path(str(value)).expanduser()
    try:
        text = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(
            f"{env_name(str(info.field_name))}: cannot read {path}: {reason}"
        ) from None
    secret = str(info.field_name).endswith(("_token_file", "_password_file"))
    if secret and not text.strip():
        raise ValueError(f"{env_name(str(info.field_name))}: {path} is empty")
    return path


ReadableFile = Annotated[Path, BeforeValidator(_readable_file)]
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _parse_headers(value: Any) -> Any:
    """Extra headers as a JSON object, `Name: value` lines, or a TOML table.

    Messages name the header or line, never a value: a value may be a secret.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError("not a valid JSON object of header names to values") from None
        else:
            value = {}
            for number, line in enumerate(text.splitlines(), start=1):
                name, colon, header = line.partition(":")
                if not line.strip():
                    continue
                if not colon:
                    raise ValueError(f"line {number} is not `Name: value`")
                value[name.strip()] = header.strip()
    if not isinstance(value, dict):
        raise ValueError("give a JSON object or `Name: value` lines")
    for name, header in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if not isinstance(header, str) or "\n" in header or "\r" in header:
            raise ValueError(f"the value of {name} must be one line of text")
    return value


class Settings(BaseModel):
    """Everything an operator can set. Defaults run the demo on one machine.

    `Settings(**values)` reads the environment and the settings file under `values`."""

    model_config = ConfigDict(extra="ignore", validate_default=True, frozen=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**_merged(values, _environment_values(), _file_values()))

    definitions: Path = Path("slo_definitions")
    alerts: Path = Path("alerts")
    dashboards: Path = Path("dashboards")

    # The source (see docs/operations.md, "Sources"). Credentials come from here, never from
    # the YAML definitions; each may be given as a value or as a file that holds it.
    prometheus_url: str = "http://127.0.0.1:9090"
    prometheus_kind: Literal["prometheus", "victoriametrics"] = "prometheus"
    prometheus_bearer_token: SecretStr | None = None
    prometheus_bearer_token_file: ReadableFile | None = None
    prometheus_username: str | None = None
    prometheus_password: SecretStr | None = None
    prometheus_password_file: ReadableFile | None = None
    # JSON object or `Name: value` lines (`X-Scope-OrgID: team-a`); values never shown.
    prometheus_headers: Annotated[dict[str, SecretStr], BeforeValidator(_parse_headers)] = Field(
        default_factory=dict
    )
    prometheus_verify_tls: bool = True
    prometheus_ca_file: ReadableFile | None = None
    prometheus_cert_file: ReadableFile | None = None
    prometheus_key_file: ReadableFile | None = None
    prometheus_timeout: float = Field(default=15.0, gt=0, le=300)
    prometheus_retries: int = Field(default=3, ge=0, le=10)
    prometheus_backoff: float = Field(default=0.5, gt=0, le=30)
    prometheus_backoff_cap: float = Field(default=8.0, gt=0, le=300)
    # Prometheus refuses range queries over 11,000 points per series; stay well under it.
    prometheus_max_points: int = Field(default=10_000, ge=10, le=11_000)
    prometheus_concurrency: int = Field(default=4, ge=1, le=64)
    # How often Prometheus scrapes the SLOs' series; learned per SLO from the data when unset.
    prometheus_scrape_interval: Seconds | None = None

    database_url: str = "sqlite:///faultline.db"

    evaluation_delay: Seconds = Field(default=60, ge=0)
    stale_after: Seconds = Field(default=300, gt=0)
    initial_backfill: Seconds | None = None
    history_limit: Seconds = Field(default=90 * 86400, gt=0)
    # Groups with a ledger over all grouped SLOs at most; new groups beyond it are counted in
    # their SLO's "other" group and reported (docs/operations.md, "Grouped SLOs").
    max_groups_total: int = Field(default=10_000, ge=1)
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

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Settings:
        pairs = [
            ("prometheus_bearer_token", "prometheus_bearer_token_file"),
            ("prometheus_password", "prometheus_password_file"),
            ("prometheus_bearer_token", "prometheus_username"),
            ("prometheus_bearer_token_file", "prometheus_username"),
        ]
        for first, second in pairs:
            if getattr(self, first) is not None and getattr(self, second) is not None:
                raise ValueError(f"give {env_name(first)} or {env_name(second)}, not both")
        password = self.prometheus_password or self.prometheus_password_file
        token = self.prometheus_bearer_token or self.prometheus_bearer_token_file
        if (token or self.prometheus_username) and "@" in urlsplit(self.prometheus_url).netloc:
            raise ValueError(
                "credentials in FAULTLINE_PROMETHEUS_URL and in the token or username settings: "
                "give them once"
            )
        if password is not None and not self.prometheus_username:
            raise ValueError("a Prometheus password needs FAULTLINE_PROMETHEUS_USERNAME")
        if self.prometheus_key_file is not None and self.prometheus_cert_file is None:
            raise ValueError(
                "FAULTLINE_PROMETHEUS_KEY_FILE needs FAULTLINE_PROMETHEUS_CERT_FILE (the "
                "client certificate it belongs to)"
            )
        return self

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
        import secrets  # noqa: PLC0415 - only the server compares tokens

        if self.api_token is None or not presented:
            return False
        return secrets.compare_digest(
            presented.encode(), self.api_token.get_secret_value().encode()
        )

    @property
    def metricsql(self) -> bool:
        """Whether queries may be MetricsQL (the source is VictoriaMetrics)."""
        return self.prometheus_kind == "victoriametrics"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def _environment_values() -> dict[str, str]:
    """`FAULTLINE_<FIELD>` variables, their names in any case, by field name."""
    fields = {env_name(name).lower(): name for name in Settings.model_fields}
    return {
        fields[key.lower()]: value for key, value in os.environ.items() if key.lower() in fields
    }


def _file_values() -> dict[str, Any]:
    """The TOML file named by `FAULTLINE_SETTINGS_FILE`, when it names a file."""
    named = os.environ.get(SETTINGS_FILE_ENV)
    path = Path(named).expanduser() if named else None
    if path is None or not path.is_file():
        return {}
    with path.open("rb") as file:
        return tomllib.load(file)


def _merged(*layers: dict[str, Any]) -> dict[str, Any]:
    """The layers, highest first, each over the ones after it; tables merge key by key with
    what is above them (as pydantic-settings merged its sources: what the layers above hold
    so far, over the next)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = _laid_over(merged, layer)
    return merged


def _laid_over(upper: dict[str, Any], lower: dict[str, Any]) -> dict[str, Any]:
    result = dict(lower)
    for key, value in upper.items():
        below = result.get(key)
        if isinstance(below, dict) and isinstance(value, dict):
            result[key] = _laid_over(value, below)
        else:
            result[key] = value
    return result


def load_settings(**overrides: Any) -> Settings:
    """Settings with command-line overrides; options left unset (None) fall through."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
