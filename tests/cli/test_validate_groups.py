"""`faultline validate` refuses what grouping cannot split into groups, each at file:line:col:

- a query that keeps no group label (here a threshold's gauge, `max(...)` instead of
  `max by (route) (...)`): its groups' slices could not be told apart;
- a group label Faultline sets on every alert itself (`service`, `slo`, `severity`, ...): the
  groups' alerts (its own and those of `faultline rules`) could not be told apart.

Time-slice budgeting is grouped as occurrences are (each group's slice is one unit of the SLO's
sum). The other SLOs of the file still load.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EVENTS = (
    "{events: {total: 'sum by (route) (rate(a[{{window}}]))', "
    "bad: 'sum by (route) (rate(b[{{window}}]))'}}"
)
SHOP = f"""\
service: shop
slos:
  - name: gauge
    objective: 99
    group_by: [route]
    sli: {{threshold: {{query: max(queue_age), op: '<=', value: 300}}}}
  - name: sliced
    objective: 99
    budgeting: timeslices
    slice_target: 95
    group_by: [route]
    sli: {EVENTS}
  - name: by-service
    objective: 99
    group_by: [route, service]
    sli: {{events: {{total: 'sum by (route, service) (rate(a[{{{{window}}}}]))', bad: 'sum by (route, service) (rate(b[{{{{window}}}}]))'}}}}
  - name: fine
    objective: 99
    group_by: [route]
    sli: {EVENTS}
"""


def test_unsupported_grouping_is_refused_at_file_line_col(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the shipped catalog and alert policies
    shop = tmp_path / "shop.yaml"
    shop.write_text(SHOP)
    result = CliRunner().invoke(cli, ["validate", str(shop)])
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith(f"{shop}:6:30: slos[0].sli.threshold.query: "), lines[0]
    assert "gauge keeps the group labels" in lines[0] and "max by (route)" in lines[0]
    assert lines[1].startswith(f"{shop}:15:23: slos[2].group_by[1]: `service` is a label")
    assert "Faultline sets on every alert" in lines[1] and "label_replace" in lines[1]
    assert len(lines) == 2, lines
    summary = " ".join(result.stderr.split())
    assert summary.startswith("2 problems in 1 file; 2 SLOs valid"), summary


KEYED = f"""\
service: shop
slos:
  - name: bounded
    objective: 99
    max_groups: 10
    sli: {{events: {{total: 'sum(rate(a[{{{{window}}}}]))', bad: 'sum(rate(b[{{{{window}}}}]))'}}}}
  - name: twice
    objective: 99
    group_by: [route, route]
    sli: {EVENTS}
  - name: twice-in-a-block
    objective: 99
    group_by:
      - route
      - route
    sli: {EVENTS}
  - name: clash
    objective: 99
    group_by:
      - slo
    sli: {{events: {{total: 'sum by (slo) (rate(a[{{{{window}}}}]))', bad: 'sum by (slo) (rate(b[{{{{window}}}}]))'}}}}
"""


def test_grouping_mistakes_point_at_the_group_by_or_max_groups_key(
    tmp_path: Path, monkeypatch
) -> None:
    """Not at the SLO's first line: at the key the rule is about (at the label, for a label
    Faultline sets on alerts)."""
    monkeypatch.chdir(ROOT)
    shop = tmp_path / "shop.yaml"
    shop.write_text(KEYED)
    result = CliRunner().invoke(cli, ["validate", str(shop)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{shop}:5:5: slos[0].max_groups: `max_groups` bounds the groups of `group_by`, which "
        "is not given",
        f"{shop}:9:5: slos[1].group_by: `group_by` names each label once; repeated: route",
        f"{shop}:13:5: slos[2].group_by: `group_by` names each label once; repeated: route",
        f"{shop}:20:9: slos[3].group_by[0]: `slo` is a label Faultline sets on every alert, so "
        "the groups' alerts could not be told apart: name the group label otherwise in the "
        'queries (e.g. `label_replace(..., "slo_group", "$1", "slo", "(.*)")`) and group by that',
    ]
