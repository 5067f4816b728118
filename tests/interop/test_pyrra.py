"""`faultline import pyrra`: Pyrra's `grouping` becomes `group_by`.

Pyrra is the format with grouping of its own (`indicator.ratio.grouping`, `latency.grouping`):
the import writes Pyrra's sums of each selector `by` the grouping labels with Faultline's
`{{window}}`, and `group_by`; the written files validate and load as grouped SLOs. The grouped
ratio SLO comes out as the SLO `tests/engine/test_grouped.py` checks against a real Prometheus
(per region, against the truth), failure modes aside. What Pyrra has and Faultline has not is a
warning at file:line:col.
"""

from __future__ import annotations

from pathlib import Path

from app.interop.imported import assemble
from app.interop.pyrra import import_pyrra
from app.slo.spec import SLOSpec
from app.slo.windows import period_seconds
from tests.engine.test_grouped import YAML
from tests.interop.helpers import DOCUMENTS, ROOT, documents, load_written, run

GROUPED = DOCUMENTS / "pyrra" / "grouped.yaml"


def test_pyrra_grouping_is_imported_as_group_by(tmp_path: Path) -> None:
    result = run("import", "pyrra", str(GROUPED), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    loaded = load_written(tmp_path / "out", alerts=ROOT / "alerts")
    assert loaded.ok, loaded.problems
    specs: dict[str, SLOSpec] = {d.key: d.spec for d in loaded.definitions.slos}
    assert sorted(specs) == [
        "pyrra/whole",
        "storefront/availability-by-region",
        "storefront/fast-by-route",
    ]
    region = specs["storefront/availability-by-region"]
    assert region.group_by == ("region",) and region.objective == 99.9
    assert period_seconds(region.period) == 28 * 86400  # Pyrra's `window: 4w`
    events = region.sli.events if region.sli else None
    assert events is not None and events.unit == "rate"
    # The SLO the grouped engine test evaluates against the truth, failure modes aside.
    written = YAML.split("sli:\n")[1].split("failure_modes:")[0]
    assert f"total: {events.total}\n" in written and f"bad: {events.bad}\n" in written
    fast = specs["storefront/fast-by-route"]
    assert fast.group_by == ("route", "tenant")
    assert fast.sli is not None and fast.sli.events is not None
    assert fast.sli.events.good == (
        "sum by (route, tenant) (rate(http_request_duration_seconds_bucket"
        '{service="storefront",le="0.5"}[{{window}}]))'
    )
    assert specs["pyrra/whole"].group_by is None
    assert specs["pyrra/whole"].sli.events.total == (  # type: ignore[union-attr]
        "sum(rate(http_requests_total[{{window}}]))"
    )


def test_what_pyrra_has_and_faultline_has_not_is_reported() -> None:
    output = assemble(import_pyrra(documents(GROUPED)))
    assert not output.findings.problems
    found = {(w.line, w.col): w.message for w in output.findings.sorted().warnings}
    assert "Kubernetes labels" in found[9, 5]
    assert "names alerts after the SLO" in found[40, 11]
    assert "no namespace: the SLO goes to service 'pyrra'" in found[45, 3]
    assert "Faultline sets service on every alert itself" in found[72, 17]
    assert "bool_gauge indicator has no Faultline equivalent" in found[85, 7]
    assert len(found) == 5, found


def test_a_document_of_another_kind_is_an_error(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n")
    result = run("import", "pyrra", str(other), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "not a Pyrra resource: expected pyrra.dev/v1alpha1 ServiceLevelObjective" in (
        result.stderr
    )


def test_burn_rate_alerts_turned_off_disable_every_tier(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text(
        "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\n"
        "metadata: {name: quiet, namespace: shop}\n"
        "spec:\n  description: no alerts\n  target: '99'\n  window: 4w\n"
        "  indicator: {ratio: {errors: {metric: 'x_total{code=\"500\"}'}, total: {metric: x_total}}}\n"
        "  alerting: {burnrates: false}\n"
    )
    result = run("import", "pyrra", str(quiet), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    loaded = load_written(tmp_path / "out", alerts=ROOT / "alerts")
    assert loaded.ok, loaded.problems
    [slo] = loaded.definitions.slos
    assert set(slo.spec.alerting.disabled_tiers) == {
        "page-fast",
        "page-slow",
        "ticket-fast",
        "ticket-slow",
    }
