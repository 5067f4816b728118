"""Build the concrete pieces from settings: definitions, store, Prometheus source, engine.

The CLI and the app factory both start here, so a command and the server see the same world.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from pydantic import SecretStr

from app.engine.service import Engine, EngineConfig
from app.runtime.loading import load
from app.runtime.settings import Settings
from app.slo.definitions import DefinitionSet
from app.sources.credentials import Credential
from app.sources.prometheus import PrometheusSource, QueryObserver, SourceConfig
from app.sources.retry import RetryPolicy
from app.store import leases, registry
from app.store.store import Store

log = logging.getLogger(__name__)


def _credential(value: SecretStr | None, file: Path | None, setting: str) -> Credential | None:
    if file is not None:
        return Credential(file=file, setting=f"FAULTLINE_{setting.upper()}_FILE")
    return None if value is None else Credential(value.get_secret_value())


def source_config(settings: Settings) -> SourceConfig:
    basic = None
    if settings.prometheus_username:
        password = _credential(
            settings.prometheus_password,
            settings.prometheus_password_file,
            "prometheus_password",
        )
        basic = (settings.prometheus_username, password or Credential(""))
    return SourceConfig(
        url=settings.prometheus_url,
        timeout=settings.prometheus_timeout,
        retry=RetryPolicy(
            attempts=settings.prometheus_retries + 1,
            base=settings.prometheus_backoff,
            cap=settings.prometheus_backoff_cap,
        ),
        max_points=settings.prometheus_max_points,
        concurrency=settings.prometheus_concurrency,
        headers={
            name: value.get_secret_value() for name, value in settings.prometheus_headers.items()
        },
        bearer_token=_credential(
            settings.prometheus_bearer_token,
            settings.prometheus_bearer_token_file,
            "prometheus_bearer_token",
        ),
        basic_auth=basic,
        verify_tls=settings.prometheus_verify_tls,
        ca_file=settings.prometheus_ca_file,
        client_cert=(
            (settings.prometheus_cert_file, settings.prometheus_key_file)
            if settings.prometheus_cert_file
            else None
        ),
        kind=settings.prometheus_kind,
    )


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        evaluation_delay=settings.evaluation_delay,
        stale_after=settings.stale_after,
        initial_backfill=settings.initial_backfill,
        history_limit=settings.history_limit,
        concurrency=settings.prometheus_concurrency,
        lease_seconds=settings.lease_seconds,
        scrape_interval=settings.prometheus_scrape_interval,
        max_groups_total=settings.max_groups_total,
    )


def build_engine(
    settings: Settings,
    definitions: DefinitionSet,
    observer: QueryObserver | None = None,
    *,
    sync: bool = True,
) -> Engine:
    """Open (and migrate) the store and, unless told not to, register the definitions."""
    holder = leases.holder_id()
    store = Store(
        settings.database_url, write_idle_timeout=settings.lease_seconds, application_name=holder
    ).open()
    source = PrometheusSource(source_config(settings), observer=observer)
    engine = Engine(store, source, definitions, engine_config(settings), holder=holder)
    if sync:
        engine.sync()
    return engine


def stored_definitions(store: Store, current: DefinitionSet) -> DefinitionSet:
    """The definitions the ledger was computed with, in the current catalog and alert context.

    Reports read these rather than the YAML files, so editing a file never changes what an
    existing ledger means until the service has re-evaluated it.
    """
    with store.read() as connection:
        stored = registry.list_slos(connection)
    return replace(current, slos=tuple(registry.definition_of(slo) for slo in stored))


def reporting_engine(settings: Settings) -> Engine:
    """An engine over the stored ledger and the definitions it was computed with; no sync."""
    current = load(settings).definitions
    # Never migrate to read: the ledger may be read-only; an old schema is reported instead.
    store = Store(settings.database_url).open(migrate=False)
    source = PrometheusSource(source_config(settings))
    return Engine(store, source, stored_definitions(store, current), engine_config(settings))
