"""Grouping across formats that have no `group_by` field.

- Sloth: an SLO whose two queries aggregate `by` the same labels is per group in Sloth (its
  rules and alerts keep the labels), so it is imported as `group_by` with a warning at
  file:line:col, and the written file loads as a grouped SLO; `sum(...)` queries stay ungrouped;
  a group label Faultline sets on alerts (`service`) is not taken, with a warning;
- OpenSLO v1: queries that aggregate `by` labels are imported as one SLO, with a warning that
  says how to group it;
- export to OpenSLO of a grouped SLO (events and latency, with `max_groups`) keeps `group_by`
  and `max_groups` in `faultline.dev/` annotations and warns that other tools will not read
  them; importing the export gives back the same specs, with no warning.
"""

from __future__ import annotations

from pathlib import Path

from app.interop import openslo_annotations as notes
from app.interop.imported import ImportOutput, assemble
from app.interop.openslo import import_openslo
from app.interop.openslo_export import export_openslo
from app.interop.reader import parse_documents
from app.interop.render import to_yaml, to_yaml_documents
from app.interop.sloth import import_sloth
from app.slo.definitions import DefinitionSet
from tests.engine.conftest import definitions_with
from tests.interop.helpers import ROOT, load_written

SLOTH = """\
version: "prometheus/v1"
service: "shop"
slos:
  - name: "per-route"
    objective: 99.9
    sli:
      events:
        error_query: sum by (route, tenant) (rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum by (tenant, route) (rate(http_requests_total[{{.window}}]))
  - name: "whole"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
  - name: "by-service"
    objective: 99.9
    sli:
      events:
        error_query: sum by (service) (rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum by (service) (rate(http_requests_total[{{.window}}]))
"""

OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: per-region
spec:
  service: shop
  indicator:
    metadata:
      name: per-region
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum by (region) (rate(http_requests_total{code=~"5.."}[5m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum by (region) (rate(http_requests_total[5m]))
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"""

GROUPED = """\
service: storefront
slos:
  - name: availability-by-region
    objective: 99.9
    group_by: [region]
    max_groups: 40
    sli:
      events:
        total: sum by (region) (rate(http_requests_total{service="storefront"}[{{window}}]))
        bad: sum by (region) (rate(http_requests_total{service="storefront", code=~"5.."}[{{window}}]))
  - name: fast-by-route
    objective: 99
    group_by: [route, tenant]
    sli: {latency: {histogram: http_request_duration_seconds, selector: '{service="storefront"}', le: 0.5}}
  - name: availability
    objective: 99.5
    sli:
      events:
        total: sum(rate(http_requests_total{service="storefront"}[{{window}}]))
        bad: sum(rate(http_requests_total{service="storefront", code=~"5.."}[{{window}}]))
"""


def parsed(text: str, name: str) -> list:  # type: ignore[type-arg]
    documents, problems = parse_documents(text, name)
    assert not problems, problems
    return documents


def written(output: ImportOutput, directory: Path) -> DefinitionSet:
    directory.mkdir()
    for service, data in output.services.items():
        (directory / f"{service}.yaml").write_text(to_yaml(data))
    result = load_written(directory, alerts=ROOT / "alerts")
    assert result.ok, result.problems
    return result.definitions


def test_sloth_queries_summed_by_labels_are_imported_as_group_by(tmp_path: Path) -> None:
    output = assemble(import_sloth(parsed(SLOTH, "sloth.yml")))
    assert not output.findings.problems
    warnings = {(w.line, w.col): w.message for w in output.findings.sorted().warnings}
    grouped = warnings[8, 9]
    assert "Sloth has no grouping field" in grouped and "`group_by: [tenant, route]`" in grouped
    assert "Faultline sets service on every alert itself" in warnings[20, 9]
    assert len(warnings) == 2, warnings
    slos = {slo["name"]: slo for slo in output.services["shop"]["slos"]}
    assert slos["per-route"]["group_by"] == ["tenant", "route"]  # as total_query orders `by`
    assert "group_by" not in slos["whole"] and "group_by" not in slos["by-service"]
    loaded = {d.name: d.spec for d in written(output, tmp_path / "out").slos}
    assert loaded["per-route"].group_by == ("tenant", "route")
    assert loaded["whole"].group_by is None


def test_openslo_queries_summed_by_labels_are_noted_not_grouped(tmp_path: Path) -> None:
    output = assemble(import_openslo(parsed(OPENSLO, "openslo.yaml")))
    assert not output.findings.problems
    [warning] = [w for w in output.findings.warnings if "grouping" in w.message]
    assert (warning.line, warning.col) == (6, 3)  # the SLO's spec
    assert "OpenSLO v1 has no grouping" in warning.message
    assert "add `group_by: [region]`" in warning.message
    [slo] = output.services["shop"]["slos"]
    assert "group_by" not in slo
    [loaded] = written(output, tmp_path / "out").slos
    assert loaded.spec.group_by is None


def test_an_openslo_export_keeps_grouping_in_annotations_and_imports_it_back(
    tmp_path: Path,
) -> None:
    _, original = definitions_with(tmp_path, "storefront.yaml", GROUPED)
    export = export_openslo(original)
    slos = {doc["metadata"]["name"]: doc for doc in export.documents if doc["kind"] == "SLO"}
    annotations = slos["availability-by-region"]["metadata"]["annotations"]
    assert annotations[notes.GROUP_BY] == '["region"]'
    assert annotations[notes.MAX_GROUPS] == "40"
    assert slos["fast-by-route"]["metadata"]["annotations"][notes.GROUP_BY] == '["route","tenant"]'
    assert notes.GROUP_BY not in slos["availability"]["metadata"]["annotations"]
    said = [w for w in export.warnings if "OpenSLO v1 has no grouping" in w]
    assert len(said) == 2 and "`group_by: [region]`" in said[0] and notes.GROUP_BY in said[0]
    documents = parsed(to_yaml_documents(export.documents), "export.yaml")
    output = assemble(import_openslo(documents), original.alerts.policies)
    assert output.findings.warnings == [] and output.findings.problems == []
    back = {slo.key: slo.spec for slo in written(output, tmp_path / "back").slos}
    assert back == {slo.key: slo.spec for slo in original.slos}
    assert back["storefront/fast-by-route"].sli.latency is not None  # type: ignore[union-attr]
