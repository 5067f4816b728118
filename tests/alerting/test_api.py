"""Alerts over HTTP: the firing list, an SLO's timeline, and the outbox age on /metrics."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from app.api.metrics import EngineMetrics
from app.engine.service import Engine, EngineConfig
from app.runtime.factory import create_app
from app.runtime.settings import Settings
from app.slo.alert_spec import Receiver
from app.slo.definitions import DefinitionSet
from app.slo.report import rfc3339
from app.sources.prometheus import PrometheusSource, SourceConfig
from tests.alerting.conftest import SyntheticLedger
from tests.alerting.support import NOON, only, shipped, with_receivers

with warnings.catch_warnings():
    # Starlette asks for its httpx2 fork at import time; plain httpx serves this test the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
KEY = "checkout/checkout-success"
# The routes read the store like any other; one database is enough here.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MakeLedger = Callable[[DefinitionSet | None], SyntheticLedger]


@pytest.fixture
def client(synthetic: MakeLedger, tmp_path: Path) -> Iterator[tuple[TestClient, SyntheticLedger]]:
    receivers = {"am": Receiver(type="alertmanager", url="http://127.0.0.1:9")}
    ledger = synthetic(with_receivers(only(shipped(), KEY), receivers))
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    ledger.fill(KEY, NOON + 60, NOON + 600, bad=100.0, modes={"payment-timeout": 90.0})
    settings = Settings(
        definitions=REPO / "slo_definitions",
        alerts=REPO / "alerts",
        database_url=f"sqlite:///{tmp_path}/unused.db",
        scheduler_enabled=False,
    )

    def engine_factory(_: Settings, __: EngineMetrics) -> Engine:
        source = PrometheusSource(SourceConfig(url="http://127.0.0.1:9"))
        return Engine(
            ledger.store,
            source,
            ledger.definitions,
            EngineConfig(evaluation_delay=0),
            clock=lambda: NOON + 600,
        )

    app: FastAPI = create_app(settings, engine_factory=engine_factory, mount_web=False)
    with TestClient(app) as test_client:
        # The wiring under test: alerts are judged by the engine's after-tick hook. The ledger
        # is current, so the tick asks Prometheus nothing.
        engine: Engine = app.state.faultline.engine
        assert engine.tick(now=NOON + 600).unavailable is None
        yield test_client, ledger


def test_firing_alerts_and_the_timeline(client: tuple[TestClient, SyntheticLedger]) -> None:
    http, _ = client
    firing = http.get("/api/v1/alerts").json()
    page = next(alert for alert in firing if alert["tier"] == "page-fast")
    assert page["key"] == KEY and page["severity"] == "page"
    assert page["since"] == rfc3339(NOON + 600)  # the one slice end judged: the checkpoint
    assert "payment-timeout 90.0%" in page["summary"]
    timeline = http.get(
        f"/api/v1/slos/{KEY}/alerts",
        params={"start": str(NOON - 3600), "end": str(NOON + 3600)},
    ).json()
    assert {(event["tier"], event["state"]) for event in timeline} >= {("page-fast", "firing")}
    assert http.get("/api/v1/slos/checkout/nope/alerts").status_code == 404


def test_metrics_export_the_age_of_the_oldest_undelivered_notification(
    client: tuple[TestClient, SyntheticLedger],
) -> None:
    http, _ = client
    text = http.get("/metrics").text
    ages = [
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("faultline_alert_outbox_oldest_age_seconds ")
    ]
    assert len(ages) == 1 and ages[0] >= 0.0
    assert 'faultline_alert_notifications_pending{receiver="am"}' in text
    assert 'faultline_alerts_firing{severity="page"} 1.0' in text
