"""`faultline rules` for a grouped SLO: rules per group, loaded into a real Prometheus.

- the recorded ratios are summed `by` the group labels (one series per group, a group without
  bad series at zero with its labels), the burn alerts carry the group labels from the series
  and template them into the summary, and an ungrouped SLO's rules are as they were;
- `promtool test rules` (Prometheus' rule engine on exact series): us-east failing 10 % fires
  all four tiers with its `region`, eu-west, without any 5xx series, records 0 and stays quiet;
- live: the generated file passes `promtool check rules` and is loaded into a real Prometheus
  (with a real Alertmanager) over fresh data in which us-east serves 20 % errors for the last
  80 minutes and eu-west is healthy: the burn alerts fire for us-east only, with its `region`
  label, and reach Alertmanager; each group's recorded burn rate equals Faultline's own ledger of
  that group over the same samples (within 2 %).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from app.alerting.conditions import alert_rules
from app.alerting.document import alert_labels
from app.alerting.promrules import rule_files
from app.engine.service import Engine
from app.slo.definitions import DefinitionSet
from app.slo.promexpr import events_signals
from app.slo.spec import SLOSpec
from app.slo.validate_groups import ALERT_LABELS
from app.slo.windows import Window
from app.store import ledger, registry
from app.testbed.alertmanager import AlertmanagerServer
from app.testbed.dataset import generate
from app.testbed.prometheus import PrometheusServer, find_binary
from app.testbed.scenario import RegionOutage, Scenario
from app.testbed.series import REGIONS
from app.testbed.tsdb import build_tsdb
from tests.alerting.conftest import alertmanager  # noqa: F401 - the fixture
from tests.alerting.receiver import WebhookReceiver
from tests.conftest import require_prometheus
from tests.engine.conftest import definitions_with, engines  # noqa: F401 - the fixture
from tests.engine.test_grouped import YAML, group_key

RATE = "rate(http_requests_total[{{window}}])"
SELECTOR = 'faultline_service="storefront", faultline_slo="availability-by-region"'


def grouped_rules(definitions: DefinitionSet) -> str:
    [generated] = rule_files(definitions, "http://faultline")
    return generated.text


def test_grouped_rules_record_and_alert_per_group(tmp_path: Path) -> None:
    text = grouped_rules(definitions_with(tmp_path, "storefront.yaml", YAML)[1])
    total = 'sum by (region) (rate(http_requests_total{service="storefront"}[1h]))'
    bad = 'sum by (region) (rate(http_requests_total{service="storefront", code=~"5.."}[1h]))'
    # Summed by region once (the query already is), never collapsed by an outer `sum(...)`;
    # a region without 5xx series is at zero with its label, not dropped.
    assert f"expr: ({bad} or ({total} * 0)) / {total}\n" in text
    assert "vector(0)" not in text and "sum(sum by" not in text
    assert f"expr: ({total} * 3600)\n" in text  # the minimum-events guard, per group
    # The alert takes `region` from the series; the summary names the group as Faultline does.
    assert "region:" not in text
    assert 'storefront/availability-by-region{region="{{ $labels.region }}"} burns' in text
    assert f"absent(faultline:slo_error_ratio:5m{{{SELECTOR}}})" in text  # no data: no group


def test_latency_and_mode_counts_are_summed_by_every_group_label() -> None:
    spec = SLOSpec.model_validate(
        {
            "name": "fast",
            "objective": 99,
            "group_by": ["route", "tenant"],
            "sli": {"latency": {"histogram": "h", "selector": '{job="x"}', "le": 0.5}},
        }
    )
    signals = events_signals(spec)
    assert signals is not None
    assert signals.error_ratio(300) == (
        '(sum by (route, tenant) (rate(h_count{job="x"}[5m])) - sum by (route, tenant) '
        r'(rate(h_bucket{job="x", le=~"0\\.5"}[5m]))) / sum by (route, tenant) '
        '(rate(h_count{job="x"}[5m]))'
    )
    modes = SLOSpec.model_validate(
        {
            "name": "modes",
            "objective": 99,
            "group_by": ["route"],
            "sli": {"events": {"total": f"sum by (route, code) ({RATE})"}},
            "failure_modes": [
                {
                    "name": "a",
                    "design_choice": "queue",
                    "bad": "sum by (route) (rate(a[{{window}}]))",
                }
            ],
        }
    )
    signals = events_signals(modes)
    assert signals is not None
    total = "sum by (route) (sum by (route, code) (rate(http_requests_total[5m])))"
    assert signals.error_ratio(300) == (
        f"((sum by (route) (rate(a[5m])) or ({total} * 0))) / {total}"
    )


PROMTOOL_SUITE = """\
rule_files: [storefront.rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{service="storefront", region="us-east", code="200"}'
        values: '0+900x180'
      - series: 'http_requests_total{service="storefront", region="us-east", code="503"}'
        values: '0+100x180'
      - series: 'http_requests_total{service="storefront", region="eu-west", code="200"}'
        values: '0+1000x180'
    promql_expr_test:
      - expr: round(faultline:slo_error_ratio:1h * 1000)  # per mille, exact
        eval_time: 2h
        exp_samples:
          - labels: '{region="us-east", LABELS}'
            value: 100
          - labels: '{region="eu-west", LABELS}'
            value: 0
      - expr: count by (region, long_window, severity) (ALERTS{alertstate="firing"})
        eval_time: 2h
        exp_samples:
          - labels: '{region="us-east", long_window="1h", severity="page"}'
            value: 1
          - labels: '{region="us-east", long_window="6h", severity="page"}'
            value: 1
          - labels: '{region="us-east", long_window="1d", severity="ticket"}'
            value: 1
          - labels: '{region="us-east", long_window="3d", severity="ticket"}'
            value: 1
"""


@pytest.mark.prometheus
def test_promtool_fires_each_tier_for_the_burning_region_only(tmp_path: Path) -> None:
    """Prometheus' own rule engine (`promtool test rules`) on exact series: us-east fails 10 %,
    eu-west has no 5xx series at all (its ratio is recorded as 0, not dropped)."""
    require_prometheus()
    _, definitions = definitions_with(tmp_path, "storefront.yaml", YAML)
    (tmp_path / "storefront.rules.yaml").write_text(grouped_rules(definitions))
    suite = tmp_path / "grouped.test.yaml"
    suite.write_text(PROMTOOL_SUITE.replace("LABELS", SELECTOR))
    run = subprocess.run(
        [find_binary("promtool"), "test", "rules", str(suite)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


# ---- live: a real Prometheus evaluates the generated rules over fresh data -----------------

OUTAGE_MINUTES = 80
MINUTES = 150
BUDGET = 0.001  # objective 99.9
COMPARED = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200}  # windows inside the data


def fresh_region_outage(now: float) -> Scenario:
    """150 minutes ending at the last whole minute; us-east fails 20 % for the last 80."""
    end = int(now) // 60 * 60
    outage = RegionOutage(end - OUTAGE_MINUTES * 60, OUTAGE_MINUTES, "us-east", failure_ratio=0.2)
    return Scenario("grouped_rules_live", end - MINUTES * 60, MINUTES, seed=5, injections=(outage,))


def instant(url: str, query: str) -> list[dict[str, object]]:
    response = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=10)
    response.raise_for_status()
    return list(response.json()["data"]["result"])


def recorded(url: str, window: str) -> dict[str, tuple[float, float]]:
    """{region: (evaluated at, ratio)} of the latest evaluation of one recorded ratio (its raw
    samples, so the time and the value are of the same evaluation)."""
    series = f"faultline:slo_error_ratio:{window}{{{SELECTOR}}}[1m]"
    latest = {}
    for found in instant(url, series):
        at, value = found["values"][-1]  # type: ignore[index]
        latest[found["metric"]["region"]] = (float(at), float(value))  # type: ignore[index]
    return latest


def firing(url: str) -> list[dict[str, str]]:
    response = requests.get(f"{url}/api/v1/alerts", timeout=10)
    response.raise_for_status()
    alerts = response.json()["data"]["alerts"]
    return [a["labels"] for a in alerts if a["state"] == "firing"]


def ledger_ratio(engine: Engine, region: str, at: float, seconds: int, last: int) -> float:
    """bad / total of the group's ledger over the samples a `[window]` range at `at` holds:
    minutes in [at - window, at], so the slices after the first of them up to the last."""
    first = -(-(at - seconds) // 60) * 60
    through = min(int(at) // 60 * 60, last)
    with engine.store.read() as connection:
        group = registry.get_slo(connection, group_key(region))
        assert group is not None
        slices = ledger.read_slices(connection, group.id, Window(int(first), through))
    assert len(slices) == (through - int(first)) // 60
    return sum(s.bad for s in slices) / sum(s.total for s in slices)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(1)


@pytest.mark.prometheus
@pytest.mark.alertmanager
@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_real_prometheus_fires_for_the_burning_group_only_and_agrees_with_the_ledger(
    tmp_path: Path,
    engines: Callable[..., Engine],  # noqa: F811
    alertmanager: tuple[AlertmanagerServer, WebhookReceiver],  # noqa: F811
    database_url: str,
) -> None:
    require_prometheus()
    manager, _ = alertmanager
    _, definitions = definitions_with(tmp_path, "storefront.yaml", YAML)
    scenario = fresh_region_outage(time.time())
    dataset = generate(scenario)
    build_tsdb(dataset, tmp_path / "data", work_dir=tmp_path)
    rules = tmp_path / "storefront.rules.yaml"
    rules.write_text(grouped_rules(definitions), encoding="utf-8")
    check = subprocess.run(
        [find_binary("promtool"), "check", "rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    server = PrometheusServer(
        tmp_path / "data",
        work_dir=tmp_path / "prometheus",
        rule_files=[rules],
        evaluation_interval="5s",
        alertmanagers=[manager.url.removeprefix("http://")],
    )
    with server:
        wait_for(lambda: len(recorded(server.url, "5m")) == len(REGIONS), "both regions recorded")
        wait_for(lambda: bool(firing(server.url)), "a burn alert")
        alerts = firing(server.url)
        by_tier = {(a["region"], a["long_window"], a["severity"]) for a in alerts}
        assert ("us-east", "1h", "page") in by_tier and ("us-east", "6h", "page") in by_tier
        assert {a["region"] for a in alerts} == {"us-east"}, alerts  # eu-west stays quiet
        for labels in alerts:
            assert labels["alertname"] == "ErrorBudgetBurn"
            assert (labels["service"], labels["slo"]) == ("storefront", "availability-by-region")
        wait_for(lambda: bool(manager.alerts()), "Alertmanager to receive the alerts")
        assert {a["labels"].get("region") for a in manager.alerts()} == {"us-east"}
        # Faultline's ledger of each group over the same data: the recorded burn rates agree.
        # (Read first: the short windows empty a few minutes after the data ends.)
        found = {label: recorded(server.url, label) for label in COMPARED}
        engine = engines(server.url, database_url, scenario.start, scenario.end, definitions)
        result = engine.tick(now=scenario.end)
        assert not result.errors and result.unavailable is None, result
        last = int(max(dataset.times))
        burns: dict[tuple[str, str], float] = {}
        for label, seconds in COMPARED.items():
            for region, (at, ratio) in found[label].items():
                assert at - last < 240, "Prometheus evaluated too long after the data ended"
                expected = ledger_ratio(engine, region, at, seconds, last)
                # Burn rates: ratio / budget, the same budget on both sides.
                burn, truth = ratio / BUDGET, expected / BUDGET
                burns[label, region] = burn
                assert burn == pytest.approx(truth, rel=0.02, abs=1e-9), (label, region)
        assert len(burns) == len(COMPARED) * len(REGIONS)
        # The story in the recorded figures: us-east burns ~200x, eu-west below 1x.
        assert burns["1h", "us-east"] > 100 and burns["1h", "eu-west"] < 1


def test_validation_knows_every_label_faultline_sets_on_an_alert(tmp_path: Path) -> None:
    _, definitions = definitions_with(tmp_path, "storefront.yaml", YAML)
    [definition] = definitions.slos
    text = grouped_rules(definitions)
    for rule in alert_rules(definition, definitions.policy_for(definition)):
        own = set(alert_labels(definition, rule)) - set(definition.labels)
        assert own <= ALERT_LABELS, own
    assert {"faultline_service", "faultline_slo"} <= ALERT_LABELS and "faultline_slo:" in text
