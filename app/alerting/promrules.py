"""Prometheus recording and alerting rules for teams that alert from Prometheus.

`faultline rules` writes one file per service to `alerts/prometheus/`, one rule group per SLO:

- `faultline:slo_error_ratio:<window>` for every window the SLO's tiers use, from counts over
  the window (see `app.slo.promexpr`); timeslice SLOs first record
  `faultline:slo_bad_slice:bool` once per slice (the group runs at the slice length) and take the
  share of bad slices in each window;
- `faultline:slo_events:<window>` for the long windows of occurrence SLOs (the minimum-events
  guard);
- `ErrorBudgetBurn` per tier (both windows above `factor × budget`, the guard, the tier's `for`)
  and `SLONoData` (the SLI has no series for `no_data_after`), labelled like Faultline's own
  alerts so one Alertmanager routing tree serves both.

A grouped SLO (`group_by`) records one series per group, summed `by` the group labels, so each
ratio is the group's own and the burn alerts fire per group, each with its group labels beside
the SLO's (Alertmanager can group and inhibit by them), exactly as Faultline's own per-group
alerts are labelled. `SLONoData` stays one alert for the SLO (no group has data). Prometheus
knows no `max_groups`: it records every group the queries return, with no "other" group.

The budget over the whole period, and what spent it, stay Faultline's job: Prometheus cannot
attribute spend to failure modes, so the annotations list the modes to check instead.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from app.alerting.conditions import AlertRule, RuleKind, alert_rules, guard_events
from app.alerting.document import BURN_ALERTNAME, NO_DATA_ALERTNAME, alert_labels
from app.alerting.facts import dashboard_url
from app.slo.burn_alerts import burn_rate_factor, effective_min_events
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.durations import format_duration
from app.slo.promexpr import bad_slice, events_signals, is_timeslices, number
from app.slo.windows import period_seconds

RATIO = "faultline:slo_error_ratio:{window}"
EVENTS = "faultline:slo_events:{window}"
BAD_SLICE = "faultline:slo_bad_slice:bool"
SUFFIX = ".rules.yaml"


@dataclass(frozen=True)
class RuleFile:
    name: str
    text: str


def _selector(definition: SLODefinition) -> str:
    return f'{{faultline_service="{definition.service}", faultline_slo="{definition.name}"}}'


def _record(name: str, expr: str, definition: SLODefinition) -> dict[str, Any]:
    return {
        "record": name,
        "expr": expr,
        "labels": {"faultline_service": definition.service, "faultline_slo": definition.name},
    }


def recording_rules(definition: SLODefinition, rules: list[AlertRule]) -> list[dict[str, Any]]:
    spec = definition.spec
    burn = [rule for rule in rules if rule.kind is RuleKind.BURN]
    windows = sorted({w for rule in burn for w in (rule.long_window, rule.short_window)})
    records: list[dict[str, Any]] = []
    if is_timeslices(spec):
        records.append(_record(BAD_SLICE, bad_slice(spec), definition))
        selector = BAD_SLICE + _selector(definition)
        for window in windows:
            expr = f"avg_over_time({selector}[{format_duration(window)}])"
            records.append(_record(RATIO.format(window=format_duration(window)), expr, definition))
        return records
    signals = events_signals(spec)
    assert signals is not None
    for window in windows:
        name = RATIO.format(window=format_duration(window))
        records.append(_record(name, signals.error_ratio(window), definition))
    for window in sorted({rule.long_window for rule in burn}):
        name = EVENTS.format(window=format_duration(window))
        records.append(_record(name, signals.total_over(window, "count"), definition))
    return records


def _subject(definition: SLODefinition) -> str:
    """`service/slo`, or for a grouped SLO its group's key templated from the alert's labels
    (`service/slo{route="/pay"}`, as Faultline names a group)."""
    group_by = definition.spec.group_by or ()
    if not group_by:
        return definition.key
    matchers = ",".join(f'{name}="{{{{ $labels.{name} }}}}"' for name in group_by)
    return f"{definition.key}{{{matchers}}}"


def _annotations(definition: SLODefinition, summary: str, base_url: str) -> dict[str, str]:
    spec = definition.spec
    lines = [
        spec.description or "",
        f"Objective {spec.objective:g}% over {spec.period.describe()}.",
    ]
    if spec.failure_modes:
        lines.append("Failure modes to check (Faultline's dashboard shows which one is burning):")
        lines.extend(
            f"- {mode.name} ({mode.design_choice}"
            + (f", {mode.dependency})" if mode.dependency else ")")
            for mode in spec.failure_modes
        )
    return {
        "summary": summary,
        "description": LiteralScalarString("\n".join(line for line in lines if line) + "\n"),
        "dashboard_url": dashboard_url(base_url, definition),
    }


def alerting_rules(
    definition: SLODefinition, rules: list[AlertRule], min_events: int, base_url: str
) -> list[dict[str, Any]]:
    spec = definition.spec
    selector = _selector(definition)
    length = period_seconds(spec.period)
    out: list[dict[str, Any]] = []
    # A group's labels come with its series and win over the SLO's labels of the same name,
    # as in Faultline's own per-group alerts (validation refuses group labels it sets itself).
    grouped = set(spec.group_by or ())
    for rule in rules:
        labels = {k: v for k, v in alert_labels(definition, rule).items() if k not in grouped}
        if rule.kind is RuleKind.NO_DATA:
            shortest = min((r.short_window for r in rules if r.kind is RuleKind.BURN), default=300)
            ratio = RATIO.format(window=format_duration(shortest))
            summary = (
                f"{definition.key} has had no data for {format_duration(rule.long_window)}: "
                "its SLI returns no series, so its budget is neither spent nor saved."
            )
            out.append(
                {
                    "alert": NO_DATA_ALERTNAME,
                    "expr": f"absent({ratio}{selector})",
                    "for": format_duration(rule.long_window),
                    "labels": labels,
                    "annotations": _annotations(definition, summary, base_url),
                }
            )
            continue
        factor = burn_rate_factor(rule.budget_fraction, length, rule.long_window)
        threshold = f"({number(factor)} * {number(spec.budget)})"
        long_label, short_label = (
            format_duration(rule.long_window),
            format_duration(rule.short_window),
        )
        conditions = [
            f"{RATIO.format(window=long_label)}{selector} > {threshold}",
            f"{RATIO.format(window=short_label)}{selector} > {threshold}",
        ]
        if not is_timeslices(spec):
            guard = guard_events(min_events, factor, spec.budget)
            if guard > 0:
                conditions.append(f"{EVENTS.format(window=long_label)}{selector} >= {guard}")
        summary = (
            f"{_subject(definition)} burns its error budget faster than {factor:.4g}× over "
            f"{long_label} and {short_label} ({rule.name}: {number(rule.budget_fraction * 100)}% "
            f"of the {spec.period.describe()} budget in {long_label})."
        )
        entry: dict[str, Any] = {
            "alert": BURN_ALERTNAME,
            "expr": LiteralScalarString("\n  and\n".join(conditions) + "\n"),
        }
        if rule.for_seconds:
            entry["for"] = format_duration(rule.for_seconds)
        entry["labels"] = labels
        entry["annotations"] = _annotations(definition, summary, base_url)
        out.append(entry)
    return out


def slo_group(
    definition: SLODefinition, definitions: DefinitionSet, base_url: str
) -> dict[str, Any]:
    policy = definitions.policy_for(definition)
    rules = alert_rules(definition, policy)
    group: dict[str, Any] = {"name": f"faultline-{definition.service}-{definition.name}"}
    if is_timeslices(definition.spec):
        group["interval"] = format_duration(definition.spec.slice_seconds)
    min_events = effective_min_events(policy, definition.spec.alerting)
    group["rules"] = [
        *recording_rules(definition, rules),
        *alerting_rules(definition, rules, min_events, base_url),
    ]
    return group


def _dump(document: dict[str, Any], header: str) -> str:
    yaml = YAML()
    yaml.width = 4096  # never fold PromQL
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return header + buffer.getvalue()


def rule_files(definitions: DefinitionSet, base_url: str) -> list[RuleFile]:
    """One file per service, named `<service>.rules.yaml`, in a stable order."""
    by_service: dict[str, list[SLODefinition]] = {}
    for definition in definitions.slos:
        by_service.setdefault(definition.service, []).append(definition)
    base = definitions.alerts.dashboard_url or base_url
    files = []
    for service, members in sorted(by_service.items()):
        sources = sorted({Path(member.source).name for member in members})
        header = (
            f"# Generated by `faultline rules` from {', '.join(sources)} and alerts/.\n"
            "# Do not edit: change the SLO or the alert policy and run `faultline rules` again.\n"
        )
        document = {"groups": [slo_group(member, definitions, base) for member in members]}
        files.append(RuleFile(f"{service}{SUFFIX}", _dump(document, header)))
    return files


def stale_files(directory: Path, expected: Iterable[RuleFile]) -> list[Path]:
    """Generated files in `directory` that no loaded service produces any more."""
    names = {rule_file.name for rule_file in expected}
    return sorted(p for p in directory.glob(f"*{SUFFIX}") if p.name not in names)
