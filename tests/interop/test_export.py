"""Export to OpenSLO v1, and the round trip: import(export(x)) gives back x."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.interop import openslo_annotations as notes
from app.interop.openslo_export import OpenSLOExport, export_openslo
from app.interop.reader import parse_documents
from app.interop.render import to_yaml_documents
from app.runtime.loading import load_definitions
from app.slo.definitions import DefinitionSet
from tests.interop.helpers import CATALOG, DOCUMENTS, ROOT, load_written, run

RFC1123 = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def definitions_with_edge_cases(tmp_path: Path) -> Path:
    """The shipped definitions plus a file of edge cases, as one definitions directory."""
    directory = tmp_path / "definitions"
    shutil.copytree(ROOT / "slo_definitions", directory)
    shutil.copy(DOCUMENTS / "faultline" / "edge-cases.yaml", directory / "edge.yaml")
    return directory


def loaded(directory: Path) -> DefinitionSet:
    result = load_definitions(directory, alerts=ROOT / "alerts", catalog=CATALOG)
    assert result.ok, result.problems
    return result.definitions


def exported(definitions: DefinitionSet) -> OpenSLOExport:
    return export_openslo(definitions)


def by_kind_and_name(export: OpenSLOExport) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in export.documents}


@pytest.mark.parametrize("layout", ["directory", "file"])
def test_import_of_the_export_gives_back_every_slo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    source = definitions_with_edge_cases(tmp_path)
    original = loaded(source)
    target = tmp_path / "openslo/" if layout == "directory" else tmp_path / "openslo.yaml"
    out = f"{target}/" if layout == "directory" else str(target)
    monkeypatch.chdir(ROOT)
    result = run("export", "openslo", "--definitions", str(source), "--out", out)
    assert result.exit_code == 0, result.stderr
    files = sorted(target.glob("*.yaml")) if layout == "directory" else [target]
    back = run("import", "openslo", *map(str, files), "--out", str(tmp_path / "back"))
    assert back.exit_code == 0, back.stderr
    assert "0 warning(s), 0 problem(s)" in back.stderr  # nothing needed a warning
    shutil.copy(CATALOG, tmp_path / "back" / "design_choices.yaml")
    reloaded = load_definitions(tmp_path / "back", alerts=ROOT / "alerts")
    assert reloaded.ok, reloaded.problems
    again = {slo.key: slo for slo in reloaded.definitions.slos}
    assert sorted(again) == sorted(original.keys())
    for slo in original.slos:
        twin = again[slo.key]
        assert twin.spec == slo.spec, slo.key
        assert twin.history_hash == slo.history_hash, slo.key
        assert twin.content_hash == slo.content_hash, slo.key  # owner and labels too
    descriptions = {
        path.stem: parse_documents(path.read_text(), str(path))[0][0].data.get("description")
        for path in (tmp_path / "back").glob("*.yaml")
        if path.name != "design_choices.yaml"
    }
    assert descriptions["checkout"] == "Public checkout API (eu-west and us-east)"


def test_the_round_trip_holds_for_the_pure_functions_too(tmp_path: Path) -> None:
    """Without files or the CLI: export, render, parse, import, compare."""
    from app.interop.imported import assemble  # noqa: PLC0415
    from app.interop.openslo import import_openslo  # noqa: PLC0415

    original = loaded(definitions_with_edge_cases(tmp_path))
    text = to_yaml_documents(exported(original).documents)
    documents, problems = parse_documents(text, "export.yaml")
    assert not problems
    output = assemble(import_openslo(documents), original.alerts.policies)
    assert output.findings.warnings == [] and output.findings.problems == []
    (tmp_path / "back").mkdir()
    from app.interop.render import to_yaml  # noqa: PLC0415

    for service, data in output.services.items():
        (tmp_path / "back" / f"{service}.yaml").write_text(to_yaml(data))
    result = load_written(tmp_path / "back", alerts=ROOT / "alerts")
    assert result.ok, result.problems
    back = {slo.key: slo.spec for slo in result.definitions.slos}
    assert back == {slo.key: slo.spec for slo in original.slos}


def test_an_events_slo_becomes_a_ratio_metric_with_failure_modes_in_annotations(
    tmp_path: Path,
) -> None:
    definitions = loaded(definitions_with_edge_cases(tmp_path))
    documents = by_kind_and_name(exported(definitions))
    slo = documents[("SLO", "checkout-checkout-success")]  # the name is also used by `edge`
    assert slo["metadata"]["labels"] == {"team": "payments", "tier": "1"}
    annotations = slo["metadata"]["annotations"]
    assert annotations[notes.SLO_NAME] == "checkout-success"
    modes = json.loads(annotations[notes.FAILURE_MODES])
    original = definitions.get("checkout/checkout-success")
    assert original is not None
    assert modes == [
        m.model_dump(mode="json", exclude_none=True) for m in original.spec.failure_modes
    ]
    assert json.loads(annotations[notes.ALERTING]) == {"policy": "default"}
    spec = slo["spec"]
    assert spec["service"] == "checkout"
    assert spec["budgetingMethod"] == "Occurrences"
    assert spec["timeWindow"] == [{"duration": "30d", "isRolling": True}]
    assert spec["objectives"] == [{"target": 0.999}]
    ratio = spec["indicator"]["spec"]["ratioMetric"]
    assert ratio["counter"] is True
    assert ratio["bad"]["metricSource"] == {
        "type": "Prometheus",
        "spec": {"query": original.spec.sli.events.bad},  # type: ignore[union-attr]
    }
    assert [ref["alertPolicyRef"] for ref in spec["alertPolicies"]] == [
        "default-page-fast-30d",
        "default-page-slow-30d",
        "default-ticket-fast-30d",
        "default-ticket-slow-30d",
    ]


def test_thresholds_calendars_timeslices_and_latency(tmp_path: Path) -> None:
    documents = by_kind_and_name(exported(loaded(definitions_with_edge_cases(tmp_path))))
    queue = documents[("SLO", "queue-freshness")]["spec"]
    assert queue["budgetingMethod"] == "Timeslices"
    assert queue["timeWindow"] == [{"duration": "28d", "isRolling": True}]
    assert queue["objectives"] == [
        {"op": "lte", "value": 300, "target": 0.99, "timeSliceTarget": 1.0, "timeSliceWindow": "1m"}
    ]
    assert "thresholdMetric" in queue["indicator"]["spec"]
    storefront = documents[("SLO", "availability")]["spec"]
    assert storefront["timeWindow"] == [
        {
            "duration": "1M",
            "isRolling": False,
            "calendar": {"startTime": "2024-01-01 00:00:00", "timeZone": "Europe/Berlin"},
        }
    ]
    minutes = documents[("SLO", "good-minutes")]["spec"]
    assert minutes["objectives"] == [
        {"target": 0.99, "timeSliceTarget": 0.95, "timeSliceWindow": "1m"}
    ]
    assert minutes["timeWindow"][0]["duration"] == "1Q"
    latency = documents[("SLO", "checkout-latency")]
    ratio = latency["spec"]["indicator"]["spec"]["ratioMetric"]
    assert ratio["total"]["metricSource"]["spec"]["query"] == (
        'sum(rate(http_request_duration_seconds_count{service="checkout"}[{{window}}]))'
    )
    assert "http_request_duration_seconds_bucket" in ratio["good"]["metricSource"]["spec"]["query"]
    assert json.loads(latency["metadata"]["annotations"][notes.LATENCY]) == {
        "histogram": "http_request_duration_seconds",
        "selector": '{service="checkout"}',
        "le": 0.5,
    }


def test_alert_tiers_become_burn_rate_policies_for_each_period(tmp_path: Path) -> None:
    documents = by_kind_and_name(exported(loaded(definitions_with_edge_cases(tmp_path))))
    fast = documents[("AlertPolicy", "default-page-fast-30d")]
    assert fast["metadata"]["annotations"] == {notes.POLICY: "default"}
    (condition,) = fast["spec"]["conditions"]
    assert condition["spec"] == {
        "severity": "page",
        "condition": {
            "kind": "burnrate",
            "threshold": 14.4,
            "lookbackWindow": "1h",
            "alertAfter": "0m",
        },
    }
    assert condition["metadata"]["annotations"] == {
        notes.TIER: "page-fast",
        notes.SHORT_WINDOW: "5m",
    }
    # The same tier for a 28-day SLO burns 2% of its budget at 13.44.
    monthly = documents[("AlertPolicy", "default-page-fast-28d")]
    assert monthly["spec"]["conditions"][0]["spec"]["condition"]["threshold"] == pytest.approx(
        13.44
    )
    # Overrides of the edge SLO: tickets-only without ticket-slow, `for` 5m, over 7 days.
    edge = documents[("SLO", "edge-checkout-success")]["spec"]["alertPolicies"]
    assert edge == [{"alertPolicyRef": "tickets-only-ticket-fast-7d-for-5m"}]
    ticket = documents[("AlertPolicy", "tickets-only-ticket-fast-7d-for-5m")]
    condition = ticket["spec"]["conditions"][0]["spec"]["condition"]
    assert condition == {
        "kind": "burnrate",
        "threshold": pytest.approx(0.10 * 7 * 86400 / 86400),
        "lookbackWindow": "1d",
        "alertAfter": "5m",
    }


def test_what_other_tools_will_not_understand_is_reported(tmp_path: Path) -> None:
    export = exported(loaded(definitions_with_edge_cases(tmp_path)))
    assert export.warnings == [
        "edge/leader-present: OpenSLO has no == operator; it is kept in the faultline.dev/op "
        "annotation, which only Faultline reads",
        "order-history/projection-integrity: bad events come from the failure modes; OpenSLO "
        "needs a bad query, so it is their sum (Faultline also caps it at the total)",
    ]
    documents = by_kind_and_name(export)
    integrity = documents[("SLO", "projection-integrity")]["spec"]["indicator"]["spec"]
    assert (
        integrity["ratioMetric"]["bad"]["metricSource"]["spec"]["query"].count("or vector(0)") == 2
    )


def test_every_document_has_the_shape_openslo_v1_requires(tmp_path: Path) -> None:
    export = exported(loaded(definitions_with_edge_cases(tmp_path)))
    kinds = {"Service", "SLO", "AlertPolicy"}
    for document in export.documents:
        assert set(document) == {"apiVersion", "kind", "metadata", "spec"}
        assert document["apiVersion"] == "openslo/v1"
        assert document["kind"] in kinds
        assert RFC1123.match(document["metadata"]["name"]), document["metadata"]["name"]
        if document["kind"] == "SLO":
            spec = document["spec"]
            assert spec["budgetingMethod"] in {"Occurrences", "Timeslices"}
            assert len(spec["timeWindow"]) == 1
            for objective in spec["objectives"]:
                assert 0 <= objective["target"] < 1
                if spec["budgetingMethod"] == "Timeslices":
                    assert 0 < objective["timeSliceTarget"] <= 1
            metric = spec["indicator"]["spec"]
            assert len(metric) == 1 and next(iter(metric)) in {"ratioMetric", "thresholdMetric"}
        if document["kind"] == "AlertPolicy":
            assert len(document["spec"]["conditions"]) == 1  # OpenSLO allows one


def test_export_to_standard_output_is_one_yaml_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("export", "openslo")
    assert result.exit_code == 0, result.stderr
    documents, problems = parse_documents(result.stdout, "<stdout>")
    assert not problems
    assert sum(document.data["kind"] == "SLO" for document in documents) == 11


def test_export_refuses_definitions_with_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = run("export", "openslo", "--definitions", "tests/slo/broken")
    assert result.exit_code == 1
    assert "fix the definitions first" in result.stderr
    assert not list(tmp_path.iterdir())
