"""Grouped SLOs in the spec: which labels a query keeps, and validation at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.runtime.loading import load_definitions
from app.slo.definitions import SLODefinition
from app.slo.groups import (
    KEY_LENGTH,
    ModeScope,
    group_slo_key,
    kept_labels,
    mode_scopes,
    query_scope,
    slo_of,
)
from app.slo.queries import signals
from app.slo.spec import SLOSpec

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "slo_definitions" / "design_choices.yaml"
RATE = "rate(http_requests_total[{{window}}])"


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        (f"sum by (route) ({RATE})", {"route"}),
        (f"sum({RATE})", set()),
        (RATE, None),  # not aggregated: whatever the series carry
        ("max(x) > 300", set()),
        ("max by (route, region) (x) > 3", {"route", "region"}),
        ("sum by (route) (a) / on (route) sum by (route, code) (b)", {"route"}),
        ("sum by (route, code) (a) / ignoring (code) group_left sum by (route) (b)", {"route", "code"}),
        ("sum without (code) (a)", None),
        ("sum without (code) (sum by (route, code) (a))", {"route"}),
        ('label_replace(sum(a), "route", "x", "", "")', {"route"}),
        ("sum by (route) (a) or vector(0)", set()),
        ("sum by (route) (a) and on () max(up) == 0", {"route"}),
        ("topk(3, sum by (route) (a))", {"route"}),
        ("-(sum by (route) (a))", {"route"}),
        ("2 * sum by (route) (a)", {"route"}),
    ],
)  # fmt: skip
def test_the_labels_a_query_keeps_are_read_from_its_aggregations(
    query: str, kept: set[str] | None
) -> None:
    assert kept_labels(query) == (None if kept is None else frozenset(kept))


def test_a_query_is_per_group_global_or_refused() -> None:
    group_by = ("route", "region")
    assert query_scope("max by (region, route) (x) > 1", group_by) is ModeScope.GROUP
    assert query_scope("max(x) > 1", group_by) is ModeScope.GLOBAL
    assert query_scope("max by (region) (x) > 1", group_by) is None  # half the labels
    assert query_scope("x > 1", group_by) is None  # cannot tell


def test_group_keys_name_the_group_and_other() -> None:
    assert group_slo_key("shop", "success", {"route": '/pay"x'}) == 'shop/success{route="/pay\\"x"}'
    assert group_slo_key("shop", "success", {"a": "1", "b": ""}) == 'shop/success{a="1",b=""}'
    assert group_slo_key("shop", "success", {"route": "__other__"}) == "shop/success{__other__}"
    assert slo_of('shop/success{route="/a{b}"}') == slo_of("shop/success") == "shop/success"


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "shop.yaml").write_text(text)
    return tmp_path


GROUPED = """\
service: shop
slos:
  - name: success
    objective: 99.9
    group_by: [route]
    max_groups: 3
    sli:
      events:
        total: sum by (route) (rate(http_requests_total[{{window}}]))
        bad: sum by (route) (rate(http_requests_total{code=~"5.."}[{{window}}]))
    failure_modes:
      - name: payment-timeout
        design_choice: synchronous-call
        bad: sum by (route) (rate(payment_timeouts_total[{{window}}]))
      - name: route-down
        design_choice: synchronous-call
        when: max by (route) (route_down) > 0
      - name: region-outage
        design_choice: multi-region
        when: min(probe_success{region="us-east"}) == 0
"""


def test_a_valid_grouped_slo_loads_and_says_which_modes_are_global(tmp_path: Path) -> None:
    result = load_definitions(_write(tmp_path, GROUPED), catalog=CATALOG)
    assert result.ok, result.problems
    [warning] = result.warnings
    assert (warning.line, warning.col) == (20, 15)
    assert "global failure mode" in warning.message and "every group" in warning.message
    [definition] = result.definitions.slos
    assert definition.spec.group_by == ("route",) and definition.spec.group_limit == 3
    assert mode_scopes(definition.spec) == {
        "payment-timeout": ModeScope.GROUP,
        "route-down": ModeScope.GROUP,
        "region-outage": ModeScope.GLOBAL,
    }


BROKEN = """\
service: shop
slos:
  - name: success
    objective: 99.9
    group_by: [route]
    sli:
      events:
        total: sum(rate(http_requests_total[{{window}}]))
        bad: rate(http_requests_total{code=~"5.."}[{{window}}])
    failure_modes:
      - name: payment-timeout
        design_choice: synchronous-call
        bad: sum(rate(payment_timeouts_total[{{window}}]))
      - name: unsaid
        design_choice: synchronous-call
        when: route_down > 0
  - name: gauge
    objective: 99
    group_by: [route]
    sli: {threshold: {query: max(q), op: '<=', value: 1}}
  - name: too-many
    objective: 99
    group_by: [route]
    max_groups: 100000
    sli: {events: {total: 'sum by (route) (rate(a[{{window}}]))', bad: 'sum by (route) (rate(b[{{window}}]))'}}
  - name: twice
    objective: 99
    group_by: [route, route]
    sli: {events: {total: 'sum by (route) (rate(a[{{window}}]))', bad: 'sum by (route) (rate(b[{{window}}]))'}}
  - name: bound-nothing
    objective: 99
    max_groups: 10
    sli: {events: {total: 'sum(rate(a[{{window}}]))', bad: 'sum(rate(b[{{window}}]))'}}
"""


def test_every_grouping_mistake_is_pinned_to_file_line_col(tmp_path: Path) -> None:
    result = load_definitions(_write(tmp_path, BROKEN), catalog=CATALOG)
    found = {(p.line, p.col): p.message for p in result.problems}
    assert "keeps no labels" in found[8, 16] and "sum by (route)" in found[8, 16]
    assert "is not aggregated" in found[9, 14]
    assert "`bad` count of a grouped SLO is per group" in found[13, 14]
    assert "per group or global" in found[16, 15] and "not aggregated" in found[16, 15]
    assert "gauge keeps the group labels" in found[20, 30] and "max by (route)" in found[20, 30]
    assert "less than or equal to 5000" in found[24, 17]
    # Rules about one key point at that key.
    assert "`group_by` names each label once; repeated: route" in found[28, 5]
    assert "bounds the groups of `group_by`" in found[32, 5]
    assert len(result.problems) == 8, result.problems
    assert not result.definitions.slos


def test_grouping_leaves_ungrouped_slos_and_their_hashes_as_they_were() -> None:
    events = {"total": f"sum({RATE})", "bad": f"sum({RATE})"}
    plain = SLODefinition(
        "shop", SLOSpec.model_validate({"name": "a", "objective": 99, "sli": {"events": events}})
    )
    dumped = plain.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert "group_by" not in dumped and "max_groups" not in dumped
    # Hashes computed before grouped SLOs existed (main at fbdf806): no ledger is recomputed.
    assert (plain.content_hash, plain.history_hash) == ("2fc76c140259c9e6", "da82cc93f7be0b34")


def test_latency_slis_are_summed_by_the_group_labels() -> None:
    spec = SLOSpec.model_validate(
        {"name": "fast", "objective": 99, "group_by": ["route"],
         "sli": {"latency": {"histogram": "h", "selector": '{job="x"}', "le": 0.5}}}
    )  # fmt: skip
    for signal in signals(spec):
        assert signal.template.startswith("sum by (route) (rate(h_"), signal
        assert query_scope(signal.template, ("route",)) is ModeScope.GROUP


def test_a_group_key_over_200_characters_is_shortened_with_a_digest_stable_and_distinct() -> None:
    long = "/api/v1/" + "x" * 300
    key = group_slo_key("shop", "success", {"route": long + "a"})
    assert len(key) == KEY_LENGTH and key.endswith("}")
    assert key.startswith('shop/success{route="/api/v1/xxx')
    assert key == group_slo_key("shop", "success", {"route": long + "a"})
    assert key != group_slo_key("shop", "success", {"route": long + "b"})
    assert slo_of(key) == "shop/success"
    short = group_slo_key("shop", "success", {"route": "/pay"})
    assert short == 'shop/success{route="/pay"}'
