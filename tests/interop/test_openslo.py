"""OpenSLO v1 documents to Faultline service files and alert policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.interop.imported import ImportOutput, assemble
from app.interop.openslo import import_openslo
from app.interop.reader import parse_documents
from tests.interop.helpers import OPENSLO, load_written, openslo, run, warnings_of

VALID = [path for path in OPENSLO if path.name != "missing-reference.yaml"]


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.name)
def test_every_openslo_document_imports_to_files_faultline_validate_accepts(
    path: Path, tmp_path: Path
) -> None:
    result = run("import", "openslo", str(path), "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    loaded = load_written(tmp_path)
    assert loaded.ok, loaded.problems
    assert loaded.definitions.slos
    alerts = [str(tmp_path / "alerts")] if (tmp_path / "alerts").is_dir() else []
    assert run("validate", str(tmp_path), *alerts).exit_code == 0


def test_a_ratio_of_bare_counters_is_counted_per_slice() -> None:
    output = openslo("ratio-bare-counter.yaml")
    service = output.services["web-shop"]
    assert service["description"] == "The shop's web front end"
    assert service["labels"] == {"team": "shop"}
    (slo,) = service["slos"]
    assert slo == {
        "name": "web-availability",
        "description": "Requests to the web front end succeed.",
        "objective": 99.5,
        "period": "28d",
        "budgeting": "occurrences",
        "labels": {"tier": "1"},  # `team` is the service's label already
        "sli": {
            "events": {
                "total": 'sum(rate(localhost_server_requests{code="total",host="*",'
                'instance="127.0.0.1:9090"}[{{window}}]))',
                "good": 'sum(rate(localhost_server_requests{code=~"2xx|3xx",host="*",'
                'instance="127.0.0.1:9090"}[{{window}}]))',
            }
        },
    }
    found = warnings_of(output)
    assert len(found) == 3
    assert found[0].startswith(
        "DataSource prometheus-datasource: spec.connectionDetails: Faultline queries the "
        "Prometheus named in its settings"
    )
    assert found[1].startswith(
        "SLO web-availability: spec.indicator.spec.ratioMetric.good.metricSource.spec.query: "
        "the query reads a counter without a range (ratioMetric.counter is true)"
    )


def test_a_referenced_sli_with_fixed_ranges_budgeted_in_timeslices_over_a_calendar_month() -> None:
    output = openslo("ratio-ref-timeslices.yaml")
    (slo,) = output.services["search"]["slos"]
    assert {key: slo[key] for key in ("period", "budgeting", "slice", "slice_target")} == {
        "period": {"calendar": "month", "timezone": "Europe/Berlin"},
        "budgeting": "timeslices",
        "slice": "1m",
        "slice_target": 95.0,
    }
    assert slo["sli"]["events"]["bad"] == (
        'sum(rate(http_requests_total{service="search", code=~"5.."}[{{window}}]))'
    )
    assert all("the range became [{{window}}]" in w for w in warnings_of(output))


def test_a_threshold_metric_takes_op_and_value_from_its_objective() -> None:
    output = openslo("threshold-timeslices.yaml")
    (slo,) = output.services["fulfilment"]["slos"]
    assert slo["sli"] == {
        "threshold": {
            "query": 'max(aws_sqs_approximate_age_of_oldest_message_maximum{dimension_QueueName="orders"})',
            "op": "<=",
            "value": 300.0,
        }
    }
    assert (slo["period"], slo["budgeting"], slo["slice"], slo["objective"]) == (
        "4w",
        "timeslices",
        "1m",  # `timeSliceWindow: 1` is one minute
        99.0,
    )
    assert warnings_of(output) == []  # everything in it has a Faultline equivalent


def test_several_objectives_become_one_slo_each() -> None:
    output = openslo("multiple-objectives.yaml")
    slos = output.services["public-api"]["slos"]
    assert [(slo["name"], slo["objective"]) for slo in slos] == [
        ("api-availability-internal", 99.9),
        ("api-availability-sla", 99.0),
    ]
    assert slos[0]["period"] == {"calendar": "week", "timezone": "UTC"}
    assert slos[0]["sli"]["events"]["total"] == (
        'sum(rate(http_requests_total{service="api"}[{{window}}]))'
    )
    assert warnings_of(output) == [
        "SLO api-availability: spec.objectives: 2 objectives: Faultline imports one SLO per "
        "objective, named api-availability-<objective name or index>"
    ]


def test_burn_rate_conditions_become_tiers_of_an_imported_policy() -> None:
    output = openslo("alert-policies.yaml")
    (slo,) = output.services["payments-gateway"]["slos"]
    assert slo["alerting"] == "payments-fast-burn-payments-slow-burn"
    assert output.alerts == {
        "policies": {
            "payments-fast-burn-payments-slow-burn": {
                "description": "Page on a fast burn",
                "tiers": [
                    # threshold 14.4 over 1h of a 30d period: 2% of the budget; 6 over 6h: 5%
                    {
                        "name": "fast-burn",
                        "severity": "page",
                        "long_window": "1h",
                        "short_window": "5m",
                        "budget_fraction": 0.02,
                        "for": "2m",
                    },
                    {
                        "name": "slow-burn",
                        "severity": "page",
                        "long_window": "6h",
                        "short_window": "30m",
                        "budget_fraction": 0.05,
                        "for": "5m",
                    },
                ],
            }
        }
    }
    found = warnings_of(output)
    assert any(
        w.startswith("AlertNotificationTarget oncall-pager: (document): notification targets")
        for w in found
    )
    assert any(
        w.startswith("SLO payment-calls: spec.alertPolicies[0].spec.alertWhenNoData:")
        for w in found
    )
    assert sum("pairs its" in w and "with a short window" in w for w in found) == 2


def test_what_faultline_cannot_carry_is_reported_with_its_field() -> None:
    output = openslo("unmappable.yaml")
    assert [slo["name"] for slo in output.services["legacy"]["slos"]] == ["quiet-policy"]
    assert "alerting" not in output.services["legacy"]["slos"][0]
    found = warnings_of(output)
    expected = [
        "SLO raw-ratio: metadata.annotations.example.com/dashboard: annotation has no Faultline",
        "SLO raw-ratio: spec.indicator.spec.ratioMetric.raw: a raw ratio metric is a precomputed "
        "ratio",
        "SLO datadog-hits: spec.indicator.spec.ratioMetric.total.metricSource.type: metric source "
        "type 'Datadog': only Prometheus-compatible sources",
        "SLO ratio-timeslices: spec.budgetingMethod: budgeting method 'RatioTimeslices' has no "
        "Faultline equivalent",
        "SLO yearly: spec.indicator.spec.ratioMetric.total.metricSource.spec.query: "
        "ratioMetric.counter is false",
        "SLO yearly: spec.timeWindow[0].duration: a calendar window of 1Y is not supported",
        "SLO quiet-policy: spec.timeWindow: no time window given",
        "SLO quiet-policy: spec.objectives[0].op: used only with a thresholdMetric",
        "SLO quiet-policy: spec.alertPolicies[0].spec.alertWhenBreaching: Faultline alerts when",
        "SLI unused-sli: (document): no SLO uses it; not imported",
        "SLO old-format: apiVersion: only openslo/v1 documents are imported",
    ]
    assert len(found) == len(expected), "\n".join(found)
    for text, warning in zip(expected, found, strict=True):
        assert warning.startswith(text), (text, warning)


def test_a_reference_to_nothing_is_an_error_naming_it(tmp_path: Path) -> None:
    document = Path(__file__).parent / "documents/openslo/missing-reference.yaml"
    result = run("import", "openslo", str(document), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert (
        f"error {document}:8:17: SLO dangling: spec.indicatorRef: indicatorRef 'no-such-sli': no "
        "SLI of that name among the documents (SLIs: none)"
    ) in result.stderr


def convert(text: str) -> ImportOutput:
    documents, problems = parse_documents(text, "slo.yaml")
    assert not problems
    return assemble(import_openslo(documents))


def slo_document(spec: str, name: str = "s", metadata: str = "") -> str:
    return (
        f"apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: {name}\n{metadata}spec:\n"
        "  service: svc\n"
        "  indicator:\n"
        "    metadata: {name: i}\n"
        "    spec:\n"
        "      thresholdMetric:\n"
        "        metricSource: {type: Prometheus, spec: {query: max(lag_seconds)}}\n" + spec
    )


def test_a_threshold_budgeted_by_occurrences_is_judged_in_slices_with_a_warning() -> None:
    output = convert(
        slo_document(
            "  timeWindow: [{duration: 7d, isRolling: true}]\n"
            "  budgetingMethod: Occurrences\n"
            "  objectives: [{op: lt, value: 30, targetPercent: 99.5}]\n"
        )
    )
    (slo,) = output.services["svc"]["slos"]
    assert (slo["budgeting"], slo["slice"], slo["sli"]["threshold"]["op"]) == (
        "timeslices",
        "1m",
        "<",
    )
    assert warnings_of(output) == [
        "SLO s: spec.objectives[0]: Faultline budgets a threshold in time slices (each judged at "
        "its end): imported as timeslices of 1m"
    ]


def test_calendar_start_times_off_a_boundary_and_month_long_rolling_windows_are_reported() -> None:
    output = convert(
        slo_document(
            "  timeWindow:\n"
            "    - duration: 1M\n"
            "      calendar: {startTime: '2024-01-15 12:00:00', timeZone: America/New_York}\n"
            "  budgetingMethod: Timeslices\n"
            "  objectives:\n"
            "    - {op: gte, value: 1, target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 5m}\n"
        )
    )
    (slo,) = output.services["svc"]["slos"]
    assert slo["period"] == {"calendar": "month", "timezone": "America/New_York"}
    assert slo["slice"] == "5m"
    found = warnings_of(output)
    assert found[1] == (
        "SLO s: spec.objectives[0].timeSliceTarget: Faultline judges a threshold at the end of "
        "each slice, so a slice is good or bad as a whole; timeSliceTarget 0.9 not imported"
    )
    assert found[0].startswith(
        "SLO s: spec.timeWindow[0].calendar.startTime: Faultline's months begin at 00:00 on the "
        "first of the month (America/New_York); the budget resets there, not at 2024-01-15 12:00"
    )
    rolling = convert(
        slo_document(
            "  timeWindow: [{duration: 1M, isRolling: true}]\n"
            "  budgetingMethod: Timeslices\n"
            "  objectives: [{op: gte, value: 1, target: 0.99, timeSliceWindow: 1m}]\n"
        )
    )
    assert rolling.services["svc"]["slos"][0]["period"] == "30d"
    assert warnings_of(rolling) == [
        "SLO s: spec.timeWindow[0].duration: a rolling 1M has no fixed length; imported as 30d "
        "(30 days per M)"
    ]


def policy_slo(name: str, window: str, threshold: float, lookback: str) -> str:
    return slo_document(
        f"  timeWindow: [{{duration: {window}, isRolling: true}}]\n"
        "  budgetingMethod: Timeslices\n"
        "  objectives: [{op: lt, value: 30, target: 0.99, timeSliceWindow: 1m}]\n"
        "  alertPolicies: [{alertPolicyRef: shared}]\n",
        name=name,
    ) + (
        "---\napiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: shared}\nspec:\n"
        "  conditions:\n"
        "    - kind: AlertCondition\n"
        "      metadata: {name: burn}\n"
        "      spec:\n"
        "        severity: page\n"
        f"        condition: {{kind: burnrate, threshold: {threshold}, lookbackWindow: {lookback}}}\n"
        "  notificationTargets: []\n"
    )


def test_one_alert_policy_used_at_two_periods_becomes_two_faultline_policies() -> None:
    first = policy_slo("a", "30d", 14.4, "1h")
    second = policy_slo("b", "7d", 14.4, "1h").split("---")[0]
    output = convert(first + "---\n" + second)
    policies = output.alerts["policies"] if output.alerts else {}
    assert {name: policy["tiers"][0]["budget_fraction"] for name, policy in policies.items()} == {
        "shared": 0.02,
        "shared-7d": round(14.4 * 3600 / (7 * 86400), 12),
    }
    assert [slo["alerting"] for slo in output.services["svc"]["slos"]] == [
        "shared",
        "shared-7d",
    ]


def test_a_condition_that_cannot_be_a_tier_is_reported() -> None:
    output = convert(policy_slo("a", "1d", 30, "1d"))
    assert output.alerts is None
    found = warnings_of(output)
    assert any("spends more than the whole budget of a 1d period" in w for w in found)
    assert any("the SLO uses Faultline's default policy" in w for w in found)
    too_short = convert(policy_slo("a", "30d", 2, "1m"))
    assert any(
        "lookbackWindow 1m is too short for a Faultline tier" in w for w in warnings_of(too_short)
    )


def test_a_missing_condition_reference_is_an_error() -> None:
    output = convert(
        policy_slo("a", "30d", 2, "1h").replace(
            "    - kind: AlertCondition\n      metadata: {name: burn}\n      spec:\n"
            "        severity: page\n"
            "        condition: {kind: burnrate, threshold: 2, lookbackWindow: 1h}\n",
            "    - conditionRef: nowhere\n",
        )
    )
    assert [str(p).split(": ", 1)[1] for p in output.findings.problems] == [
        "AlertPolicy shared: spec.conditions[0].conditionRef: conditionRef 'nowhere': no "
        "AlertCondition of that name among the documents"
    ]
