"""A secured, multi-tenant source, end to end: a gateway on loopback in front of a real Prometheus
that demands a bearer token, a tenant header, a path prefix and a client certificate over TLS
(as Mimir, Cortex or a managed Prometheus behind a proxy do).

A real `faultline backfill` through the gateway writes the same report as one against Prometheus
directly; a wrong token ends at once with an error that names the source; the secrets show in no
log line, `/metrics`, error, stored row or API answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.runtime.settings import Settings
from app.runtime.wiring import source_config
from app.sources.errors import SourceAuthError, SourceUnavailableError
from app.sources.prometheus import PrometheusSource
from tests.api.conftest import TOKEN
from tests.api.processes import FAULTLINE, ServeProcess, everything_seen
from tests.conftest import RunningPrometheus
from tests.engine.conftest import REPO
from tests.fixtures.certificates import Certificates, make_certificates
from tests.fixtures.fake_prometheus import FakePrometheus, Gate

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

SOURCE_TOKEN = "src-token-5f2a9c"  # the gateway's secret
TENANT = "tenant-1"
PREFIX = "/prometheus"


@dataclass(frozen=True)
class Gateway:
    running: RunningPrometheus
    fake: FakePrometheus
    certificates: Certificates
    work: Path

    @property
    def url(self) -> str:
        return self.fake.url + PREFIX

    def environment(self, token: str = SOURCE_TOKEN) -> dict[str, str]:
        """The `FAULTLINE_*` settings a user sets for this source; the token from a file."""
        token_file = self.work / f"token-{token}"
        token_file.write_text(token + "\n")
        return {
            "FAULTLINE_PROMETHEUS_URL": self.url,
            "FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE": str(token_file),
            "FAULTLINE_PROMETHEUS_HEADERS": f"X-Scope-OrgID: {TENANT}",
            "FAULTLINE_PROMETHEUS_CA_FILE": str(self.certificates.ca),
            "FAULTLINE_PROMETHEUS_CERT_FILE": str(self.certificates.client_cert),
            "FAULTLINE_PROMETHEUS_KEY_FILE": str(self.certificates.client_key),
        }


@pytest.fixture
def gateway(
    prometheus_over: Callable[[str], RunningPrometheus],
    fake_prometheus: type[FakePrometheus],
    tmp_path: Path,
) -> Gateway:
    running = prometheus_over("fast_burn")
    certificates = make_certificates(tmp_path / "tls")
    demands = {"Authorization": f"Bearer {SOURCE_TOKEN}", "X-Scope-OrgID": TENANT}
    fake = fake_prometheus(
        running.url,
        tls=certificates.server_context(require_client=True),
        gate=Gate(PREFIX, demands),
    )
    return Gateway(running, fake, certificates, tmp_path)


def settings_of(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_the_gateway_answers_like_prometheus_itself(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    secured = PrometheusSource(source_config(settings_of(gateway.environment(), monkeypatch)))
    direct = PrometheusSource(source_config(Settings(prometheus_url=gateway.running.url)))
    start = gateway.running.scenario.start + 3600
    query = 'sum(rate(http_requests_total{service="checkout"}[1m]))'
    answer = secured.query_range(query, start, start + 600, 60)
    assert answer and answer == direct.query_range(query, start, start + 600, 60)
    assert secured.ping() and not gateway.fake.refused


def test_what_the_gateway_demands_is_named_when_missing(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = gateway.environment()
    start = gateway.running.scenario.start + 3600
    without_tenant = {**environment, "FAULTLINE_PROMETHEUS_HEADERS": "{}"}
    source = PrometheusSource(source_config(settings_of(without_tenant, monkeypatch)))
    with pytest.raises(SourceAuthError) as refused:
        source.query_range("up", start, start + 60, 60)
    assert str(refused.value) == (
        f"Prometheus at {gateway.url} refused the request (HTTP 401 Unauthorized): "
        "check the source's credentials (bearer token, username/password, headers)"
    )
    assert gateway.fake.refused == 1  # not retried
    monkeypatch.delenv("FAULTLINE_PROMETHEUS_CERT_FILE")
    monkeypatch.delenv("FAULTLINE_PROMETHEUS_KEY_FILE")
    no_certificate = PrometheusSource(source_config(Settings()))
    with pytest.raises(SourceUnavailableError, match=f"Prometheus at {gateway.url}"):
        no_certificate.query_range("up", start, start + 60, 60)


def test_validate_checks_the_data_through_the_gateway(gateway: Gateway) -> None:
    at = str(gateway.running.scenario.end)
    checked = faultline(
        gateway, "validate", gateway.environment(), "validate", "--check-data", "--at", at
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"data: 11 SLO(s) checked against {gateway.url} (prometheus): 0 can never" in " ".join(
        checked.stderr.split()
    )
    assert not gateway.fake.refused


def faultline(
    gateway: Gateway, name: str, environment: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    settings = {
        **os.environ,
        "FAULTLINE_DEFINITIONS": str(REPO / "slo_definitions"),
        "FAULTLINE_ALERTS": str(REPO / "alerts"),
        "FAULTLINE_DATABASE_URL": f"sqlite:///{gateway.work / name}.db",
        "FAULTLINE_EVALUATION_DELAY": "0",
        **environment,
    }
    return subprocess.run(
        [FAULTLINE, *args],
        env=settings,
        cwd=gateway.work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_backfill_through_the_gateway_equals_one_against_prometheus(gateway: Gateway) -> None:
    start = gateway.running.scenario.start
    end = start + 2 * 3600
    span = ("--from", str(start), "--to", str(end))
    runs = {
        "direct": {"FAULTLINE_PROMETHEUS_URL": gateway.running.url},
        "secured": gateway.environment(),
    }
    reports = {}
    for name, environment in runs.items():
        backfilled = faultline(gateway, name, environment, "backfill", *span)
        assert backfilled.returncode == 0, backfilled.stderr
        reported = faultline(gateway, name, environment, "report", "--json", "--at", str(end))
        assert reported.returncode == 0, reported.stderr
        document = json.loads(reported.stdout)
        del document["generated_at"]
        reports[name] = document
    assert reports["secured"] == reports["direct"]
    assert not gateway.fake.refused and len(gateway.fake.requests) > 10


def test_a_wrong_token_ends_at_once_naming_the_source(gateway: Gateway) -> None:
    start = gateway.running.scenario.start
    began = time.monotonic()
    backfilled = faultline(
        gateway,
        "wrong",
        {**gateway.environment("wrong-token"), "FAULTLINE_PROMETHEUS_RETRIES": "3"},
        "backfill",
        "--from",
        str(start),
        "--to",
        str(start + 3600),
    )
    assert backfilled.returncode != 0
    output = " ".join(backfilled.stderr.split())
    assert (
        f"Prometheus at {gateway.url} refused the request (HTTP 401 Unauthorized): "
        "check the source's credentials" in output
    ), output
    assert "wrong-token" not in backfilled.stdout + backfilled.stderr
    assert "Traceback" not in backfilled.stderr, backfilled.stderr
    assert gateway.fake.refused == len(gateway.fake.requests) <= 11  # once per SLO at most
    assert time.monotonic() - began < 60


def test_the_source_secrets_show_nowhere(gateway: Gateway) -> None:
    """Two `serve`: one with the right token, one refused with another secret token."""
    refused_token = "refused-token-d41c"
    refused = gateway.environment()
    del refused["FAULTLINE_PROMETHEUS_BEARER_TOKEN_FILE"]
    environments = {
        "good": gateway.environment(),
        "refused": {**refused, "FAULTLINE_PROMETHEUS_BEARER_TOKEN": refused_token},
    }
    servers: dict[str, ServeProcess] = {}
    try:
        for name, environment in environments.items():
            (gateway.work / name).mkdir()
            servers[name] = ServeProcess(
                gateway.work / name,
                {
                    **environment,
                    "FAULTLINE_DATABASE_URL": f"sqlite:///{gateway.work / name}/ledger.db",
                    "FAULTLINE_API_TOKEN": TOKEN,
                },
            )
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    ledgers = {name: gateway.work / name / "ledger.db" for name in servers}
    seen = everything_seen(servers, TOKEN, ledgers)

    for secret in (SOURCE_TOKEN, refused_token):
        leaks = [where for where, text in seen.items() if secret in text]
        assert not leaks, leaks
    # Proof that the places looked at name the refusal:
    assert "refused the request (HTTP 401" in seen["refused /api/v1/slos"]
    assert "refused the request (HTTP 401" in seen["refused ledger"]
    assert 'faultline_prometheus_query_errors_total{kind="auth"}' in seen["refused /metrics"]
