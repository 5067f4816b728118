"""Budget corrections survive an OpenSLO export and re-import (OpenSLO has no field for them)."""

from __future__ import annotations

import json
from pathlib import Path

from app.interop import openslo_annotations as notes
from app.interop.imported import assemble
from app.interop.openslo import import_openslo
from app.interop.reader import parse_documents
from app.interop.render import to_yaml, to_yaml_documents
from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction
from tests.interop.helpers import ROOT, load_written
from tests.interop.test_export import by_kind_and_name, definitions_with_edge_cases, exported
from tests.interop.test_export import loaded as load


def test_service_wide_and_slo_corrections_travel_in_annotations(tmp_path: Path) -> None:
    original = load(definitions_with_edge_cases(tmp_path))
    export = exported(original)
    documents = by_kind_and_name(export)
    service = documents[("Service", "edge")]["metadata"]["annotations"]
    assert json.loads(service[notes.CORRECTIONS])[0]["name"] == "load-test"
    slo = documents[("SLO", "good-minutes")]["metadata"]["annotations"]
    assert json.loads(slo[notes.CORRECTIONS])[0]["rrule"].startswith("DTSTART;TZID=Europe/Berlin")

    parsed, problems = parse_documents(to_yaml_documents(export.documents), "export.yaml")
    assert not problems
    output = assemble(import_openslo(parsed), original.alerts.policies)
    assert output.findings.warnings == [] and output.findings.problems == []
    (tmp_path / "back").mkdir()
    for name, data in output.services.items():
        (tmp_path / "back" / f"{name}.yaml").write_text(to_yaml(data))
    result = load_written(tmp_path / "back", alerts=ROOT / "alerts")
    assert result.ok, result.problems

    def identities(corrections: list[Correction]) -> list[tuple[str, str, CorrectionSpec]]:
        return sorted((c.scope, c.name, c.spec) for c in corrections)

    assert identities(result.definitions.declared_corrections()) == identities(
        original.declared_corrections()
    )
    assert [c.scope for c in original.declared_corrections()] == ["edge", "edge/good-minutes"]
