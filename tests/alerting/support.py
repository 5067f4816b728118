"""Helpers shared by the alerting tests and their helper processes (light imports only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from app.runtime.loading import load_definitions
from app.slo.alert_spec import Receiver, Route
from app.slo.definitions import DefinitionSet

REPO = Path(__file__).resolve().parents[2]
SECRET = "correct horse battery staple"
SECRET_ENV = "FAULTLINE_TEST_WEBHOOK_SECRET"
# 2024-03-04 12:00 UTC: a fixed data time for synthetic ledgers.
NOON = 1_709_553_600


def shipped() -> DefinitionSet:
    result = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts")
    assert result.ok, result.problems
    return result.definitions


def only(definitions: DefinitionSet, *keys: str) -> DefinitionSet:
    return replace(definitions, slos=tuple(d for d in definitions.slos if d.key in keys))


def with_receivers(
    definitions: DefinitionSet,
    receivers: Mapping[str, Receiver],
    routes: tuple[Route, ...] = (),
) -> DefinitionSet:
    alerts = replace(definitions.alerts, receivers=receivers, routes=routes)
    return replace(definitions, alerts=alerts)


def webhook_receiver(url: str, **options: object) -> Receiver:
    return Receiver.model_validate(
        {"type": "webhook", "url": url, "secret_env": SECRET_ENV, **options}
    )
