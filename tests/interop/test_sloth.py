"""Sloth `prometheus/v1` specs (and the Kubernetes CRD) to Faultline service files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.interop.imported import assemble
from app.interop.reader import parse_documents
from app.interop.sloth import import_sloth
from tests.interop.helpers import SLOTH, load_written, run, sloth, warnings_of


@pytest.mark.parametrize("path", SLOTH, ids=lambda path: path.name)
def test_every_sloth_document_imports_to_files_faultline_validate_accepts(
    path: Path, tmp_path: Path
) -> None:
    result = run("import", "sloth", str(path), "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    loaded = load_written(tmp_path)
    assert loaded.ok, loaded.problems
    assert loaded.definitions.slos, "every fixture has at least one importable SLO"
    assert run("validate", str(tmp_path)).exit_code == 0


def test_events_sli_labels_and_alerting_map_to_the_faultline_spec() -> None:
    output = sloth("getting-started.yml")
    assert output.services == {
        "myservice": {
            "service": "myservice",
            "labels": {"owner": "myteam", "repo": "myorg/myservice", "tier": "2"},
            "slos": [
                {
                    "name": "requests-availability",
                    "description": "Common SLO based on availability for HTTP request responses.",
                    "objective": 99.9,
                    "period": "30d",
                    "budgeting": "occurrences",
                    "sli": {
                        "events": {
                            "total": 'sum(rate(http_request_duration_seconds_count{job="myservice"}'
                            "[{{window}}]))",
                            "bad": 'sum(rate(http_request_duration_seconds_count{job="myservice",'
                            'code=~"(5..|429)"}[{{window}}]))',
                            "unit": "rate",
                        }
                    },
                    "alerting": "default",
                }
            ],
        }
    }
    assert output.alerts is None


def test_alert_names_labels_and_annotations_are_reported_field_by_field() -> None:
    output = sloth("getting-started.yml")
    found = output.findings.sorted().warnings
    fields = [(w.line, w.col, w.field) for w in found]
    assert fields == [
        (19, 13, "slos[0].alerting.name"),
        (21, 9, "slos[0].alerting.labels"),
        (23, 9, "slos[0].alerting.annotations"),
        (26, 11, "slos[0].alerting.page_alert.labels"),
        (30, 11, "slos[0].alerting.ticket_alert.labels"),
    ]
    assert all(w.document == "Sloth SLO requests-availability" for w in found)
    assert "alert name is not imported" in found[0].message
    assert str(found[0]).startswith(
        "tests/interop/documents/sloth/getting-started.yml:19:13: Sloth SLO requests-availability:"
        " slos[0].alerting.name: "
    )


def test_a_disabled_sloth_alert_disables_its_two_tiers_of_the_default_policy() -> None:
    slos = sloth("k8s-apiserver.yml").services["k8s-apiserver"]["slos"]
    latency = slos[1]
    assert latency["alerting"] == {
        "policy": "default",
        "disabled_tiers": ["ticket-fast", "ticket-slow"],
    }
    assert latency["labels"] == {"category": "latency"}
    assert "- \n" not in latency["sli"]["events"]["bad"]
    assert latency["sli"]["events"]["bad"].startswith("(\n  sum(rate(apiserver_request_duration")
    no_alerts = sloth("no-alerts.yml").services["myapp"]["slos"][0]
    assert no_alerts["alerting"]["disabled_tiers"] == [
        "page-fast",
        "page-slow",
        "ticket-fast",
        "ticket-slow",
    ]
    assert no_alerts["objective"] == 99.99


def test_the_kubernetes_crd_reads_its_camel_case_keys() -> None:
    output = sloth("k8s-crd.yml")
    slo = output.services["myservice-k8s"]["slos"][0]
    assert slo["sli"]["events"]["bad"].startswith("sum(rate(http_request_duration_seconds_count")
    assert slo["objective"] == 99.5
    assert warnings_of(output)[0] == (
        "PrometheusServiceLevel sloth-slo-my-service: metadata: Kubernetes object metadata is "
        "not imported; the service name is spec.service"
    )
    assert any("spec.slos[0].alerting.pageAlert.labels" in w for w in warnings_of(output))
    assert [slo["name"] for slo in output.services["myservice-k8s"]["slos"]] == [
        "requests-availability"
    ]
    assert any(
        w.startswith("Sloth SLO wifi-satisfaction: spec.slos[1].sli.raw.errorRatioQuery: a raw SLI")
        for w in warnings_of(output)
    )


def test_several_specs_in_one_file_and_a_common_for_duration() -> None:
    output = sloth("multifile.yml")
    assert list(output.services) == ["svc-a", "svc-b"]
    slo = output.services["svc-a"]["slos"][0]
    assert slo["alerting"] == {"policy": "default", "for": "5m"}
    assert slo["sli"]["events"]["unit"] == "count"  # increase() counts, it is not a rate


def test_the_sloth_period_is_the_one_sloth_was_run_with() -> None:
    output = sloth("multifile.yml", period="28d")
    assert {slo["period"] for data in output.services.values() for slo in data["slos"]} == {"28d"}


def test_what_faultline_cannot_carry_is_reported_and_nothing_else_is_lost() -> None:
    output = sloth("unmappable.yml")
    assert [slo["name"] for slo in output.services["home-wifi"]["slos"]] == ["wifi-uplink"]
    found = warnings_of(output)
    expected = {
        "Sloth spec home-wifi: slo_plugins: Sloth SLO plugins change generated Prometheus rules",
        "Sloth SLO wifi-client-satisfaction: slos[0].sli.raw.error_ratio_query: a raw SLI is a "
        "precomputed error ratio, which cannot be turned into event counts per slice; SLO not "
        "imported",
        "Sloth SLO requests-availability-plugin: slos[1].sli.plugin.id: an SLI plugin builds "
        "its queries inside Sloth; SLO not imported",
        "Sloth SLO wifi-uplink: slos[2].plugins: Sloth SLO plugins are not imported",
        "Sloth SLO wifi-uplink: slos[2].owner: unknown field; not imported",
        "Sloth SLO wifi-uplink: slos[2].alerting.page_alert.for: `for: 2m` is not the same",
        "Sloth SLO wifi-uplink: slos[2].alerting.ticket_alert.for: `for: 30m` is not the same",
    }
    for text in expected:
        assert any(warning.startswith(text) for warning in found), text


def convert_text(text: str, tmp_path: Path) -> tuple[list[str], list[str], dict[str, object]]:
    path = tmp_path / "spec.yml"
    path.write_text(text)
    documents, problems = parse_documents(text, "spec.yml")
    output = assemble(import_sloth(documents))
    findings = output.findings.sorted()
    return (
        [str(w) for w in findings.warnings],
        [str(p) for p in [*problems, *findings.problems]],
        output.services,
    )


def test_an_slo_whose_query_is_not_valid_promql_is_left_out_with_the_reason(
    tmp_path: Path,
) -> None:
    warnings, problems, services = convert_text(
        'version: "prometheus/v1"\n'
        "service: svc\n"
        "slos:\n"
        "  - name: broken\n"
        "    objective: 99\n"
        "    sli:\n"
        "      events:\n"
        "        error_query: sum(rate(errors_total[{{.window}}])\n"
        "        total_query: sum(rate(requests_total[5m]))\n",
        tmp_path,
    )
    assert services == {}
    assert problems == []
    assert warnings == [
        "spec.yml:4:3: Sloth spec svc: slos: service 'svc' has no SLO that could be imported",
        "spec.yml:8:22: Sloth SLO broken: slos[0].sli.events.error_query: invalid PromQL: "
        + warnings[1].split("invalid PromQL: ", 1)[1],
        "spec.yml:9:22: Sloth SLO broken: slos[0].sli.events.total_query: Sloth queries need the "
        "{{.window}} placeholder in their range selector; SLO not imported",
    ]


def test_invalid_specs_are_problems_with_positions(tmp_path: Path) -> None:
    warnings, problems, services = convert_text(
        'version: "prometheus/v1"\n'
        "service: svc\n"
        "slos:\n"
        "  - name: no-objective\n"
        "    objective: high\n"
        "    sli: {events: {error_query: 'sum(rate(e[{{.window}}]))'}}\n",
        tmp_path,
    )
    assert services == {}
    assert problems == [
        "spec.yml:5:16: Sloth SLO no-objective: slos[0].objective: expected a number, found a string",
        "spec.yml:6:19: Sloth SLO no-objective: slos[0].sli.events.total_query: required field is "
        "missing",
    ]
    assert warnings == [
        "spec.yml:4:3: Sloth spec svc: slos: service 'svc' has no SLO that could be imported"
    ]
    _, not_sloth, _ = convert_text("service: svc\nslos: []\n", tmp_path)
    assert not_sloth == [
        "spec.yml:1:1: document: not a Sloth spec: expected version: prometheus/v1 (or a "
        "PrometheusServiceLevel sloth.slok.dev/v1 resource), found neither"
    ]
