"""The Grafana export: valid dashboards with the expected panels, queries that parse as PromQL
and only use metrics Faultline's /metrics really serves, and committed files that are current."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import promql_parser
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.runtime.loading import load_definitions
from app.slo.burn_alerts import burn_rate_factor, effective_tiers
from app.slo.windows import period_seconds
from tests.web.conftest import Live
from tests.web.harness import REPO

COMMITTED = REPO / "dashboards" / "grafana"
# Grafana replaces its macros before a query reaches Prometheus; so do we before parsing.
MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
METRIC = re.compile(r"\bfaultline_[a-z_]+")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("grafana")
    (out / "faultline-service-gone.json").write_text("{}")  # a service that no longer exists
    result = CliRunner().invoke(
        cli,
        ["dashboards", "export", "--out", str(out), "--definitions", str(REPO / "slo_definitions")],
        env={"FAULTLINE_ALERTS": str(REPO / "alerts")},
    )
    assert result.exit_code == 0, result.output
    return {path.name: json.loads(path.read_text()) for path in sorted(out.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def exprs(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(dashboard) for target in panel["targets"]]


def test_committed_dashboards_are_current(exported: dict[str, dict[str, Any]]) -> None:
    committed = {path.name: path.read_text() for path in sorted(COMMITTED.glob("*.json"))}
    assert sorted(committed) == sorted(exported), "run: faultline dashboards export"
    for name, text in committed.items():
        assert json.loads(text) == exported[name], f"{name} is stale: faultline dashboards export"


def test_one_overview_and_one_dashboard_per_service(exported: dict[str, dict[str, Any]]) -> None:
    definitions = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts").definitions
    services = sorted({d.service for d in definitions.slos})
    assert sorted(exported) == sorted(
        ["faultline-overview.json", *(f"faultline-service-{s}.json" for s in services)]
    )
    uids = [dashboard["uid"] for dashboard in exported.values()]
    assert len(set(uids)) == len(uids)


def test_dashboards_are_well_formed(exported: dict[str, dict[str, Any]]) -> None:
    for name, dashboard in exported.items():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", name
        assert variables["datasource"]["query"] == "prometheus", name
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(set(ids)) == len(ids), name
        for panel in dashboard["panels"]:
            position = panel["gridPos"]
            assert position["x"] + position["w"] <= 24, (name, panel["title"])
        for panel in panels(dashboard):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], (name, panel["title"])
            assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


def test_every_query_parses_as_promql(exported: dict[str, dict[str, Any]]) -> None:
    for dashboard in exported.values():
        queries = exprs(dashboard) + [
            v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"
        ]
        for query in queries:
            promql_parser.parse(promql_of(query))  # raises on a syntax error


def promql_of(query: str) -> str:
    """The PromQL Grafana would send: macros replaced, `label_values(m, l)` read as `m`."""
    if query.startswith("label_values("):  # a Grafana variable query, not PromQL itself
        query = query.removeprefix("label_values(").rsplit(",", 1)[0]
    for macro, value in MACROS.items():
        query = query.replace(macro, value)
    return query


def test_the_overview_graphs_slos_and_failure_modes(exported: dict[str, dict[str, Any]]) -> None:
    overview = exported["faultline-overview.json"]
    titles = {panel["title"] for panel in panels(overview)}
    assert {
        "Error budget remaining, worst first",
        "SLOs that need attention",
        "Error budget remaining",
        "Burn rate over 1h",
        "Budget spent by failure mode (summed over the SLOs it hits)",
        "Budget spent by design choice",
        "Failure mode spend per SLO",
        "Unattributed spend by SLO (causes no failure mode names)",
        "Evaluation lag",
        "Prometheus query latency",
        "Errors",
    } <= titles
    variables = [v["name"] for v in overview["templating"]["list"]]
    assert variables == ["datasource", "service", "design_choice", "failure_mode"]
    # Unattributed spend is ranked with the failure modes, in the same sorted answer.
    ranking = next(
        panel
        for panel in panels(overview)
        if panel["title"] == "Budget spent by failure mode (summed over the SLOs it hits)"
    )
    (query,) = [t["expr"] for t in ranking["targets"]]
    assert query.startswith("sort_desc(sum by (failure_mode, design_choice) (")
    assert (
        " or label_replace(label_replace(sum(faultline_slo_unattributed_budget_consumed_ratio{"
        in query
    )
    assert '"failure_mode", "unattributed"' in query


def test_service_dashboards_draw_each_slos_alert_factors(
    exported: dict[str, dict[str, Any]],
) -> None:
    definitions = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts").definitions
    for definition in definitions.slos:
        dashboard = exported[f"faultline-service-{definition.service}.json"]
        rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
        assert any(title.startswith(f"{definition.name}:") for title in rows)
        selector = f'service="{definition.service}", slo="{definition.name}"'
        burn = next(
            panel
            for panel in panels(dashboard)
            if panel["title"] == "Burn rate by window" and selector in panel["targets"][0]["expr"]
        )
        steps = burn["fieldConfig"]["defaults"]["thresholds"]["steps"]
        policy = definitions.policy_for(definition)
        length = period_seconds(definition.spec.period)
        factors = sorted(
            {
                round(burn_rate_factor(t.budget_fraction, length, t.long_window), 4)
                for t in effective_tiers(policy, definition.spec.alerting)
            }
        )
        assert [step["value"] for step in steps[1:]] == factors
        mode_panel = next(
            panel
            for panel in panels(dashboard)
            if panel["title"] == "Budget consumed by failure mode"
            and selector in panel["targets"][0]["expr"]
        )
        assert (
            "faultline_slo_unattributed_budget_consumed_ratio" in mode_panel["targets"][1]["expr"]
        )


@pytest.mark.prometheus
def test_every_metric_graphed_is_served_on_metrics(
    exported: dict[str, dict[str, Any]], live: Live, api: httpx.Client
) -> None:
    served = set(METRIC.findall(api.get("/metrics").text))
    used = {metric for d in exported.values() for e in exprs(d) for metric in METRIC.findall(e)}
    assert used <= served, sorted(used - served)
    assert "faultline_slo_failure_mode_budget_consumed_ratio" in used
