"""Validation of a grouped SLO's queries: each must say, by its aggregation, which groups it is
about (`app.slo.groups`), so one answer can be split into groups without guessing."""

from __future__ import annotations

from app.slo.groups import ModeScope, kept_labels, query_scope
from app.slo.spec import SLOSpec

Loc = tuple[int | str, ...]
Found = list[tuple[Loc, str]]

# Labels Faultline sets on every alert (and on the series `faultline rules` records): a group
# label of one of these names would be overwritten, and the groups' alerts would be one alert.
ALERT_LABELS = frozenset(
    {
        "alertname",
        "service",
        "slo",
        "severity",
        "long_window",
        "short_window",
        "no_data_for",
        "faultline_service",
        "faultline_slo",
    }
)


def group_problems(spec: SLOSpec) -> tuple[Found, Found]:
    """(problems, notes) of a grouped SLO's queries; nothing for an ungrouped one.

    The notes say which failure modes hold for every group at once (a global `when`), so a
    mode meant per group that lost its labels is seen before its budget is spread."""
    group_by = spec.group_by or ()
    if not group_by or spec.sli is None:
        return [], []
    labels = ", ".join(group_by)
    problems: Found = [
        (
            ("group_by", index),
            f"`{name}` is a label Faultline sets on every alert, so the groups' alerts could not "
            f"be told apart: name the group label otherwise in the queries (e.g. "
            f'`label_replace(..., "{name}_group", "$1", "{name}", "(.*)")`) and group by that',
        )
        for index, name in enumerate(group_by)
        if name in ALERT_LABELS
    ]
    notes: Found = []
    events = spec.sli.events
    for role in ("total", "bad", "good"):
        query = None if events is None else getattr(events, role)
        if query is not None and _scope(query, group_by) is not ModeScope.GROUP:
            problems.append(
                (
                    ("sli", "events", role),
                    f"a grouped SLO's query keeps the group labels: aggregate with "
                    f"`sum by ({labels}) (...)`; this one {_keeps(query)}",
                )
            )
    threshold = spec.sli.threshold
    if threshold is not None and _scope(threshold.query, group_by) is not ModeScope.GROUP:
        problems.append(
            (
                ("sli", "threshold", "query"),
                f"a grouped SLO's gauge keeps the group labels, so each group's slices are "
                f"judged on its own series: aggregate with `max by ({labels}) (...)` (or `min`); "
                f"this one {_keeps(threshold.query)}",
            )
        )
    for index, mode in enumerate(spec.failure_modes):
        if mode.bad is not None and _scope(mode.bad, group_by) is not ModeScope.GROUP:
            problems.append(
                (
                    ("failure_modes", index, "bad"),
                    f"a `bad` count of a grouped SLO is per group: aggregate with "
                    f"`sum by ({labels}) (...)` (a mode of every group signals with `when`); "
                    f"this one {_keeps(mode.bad)}",
                )
            )
        if mode.when is None:
            continue
        scope = _scope(mode.when, group_by)
        if scope is None:
            problems.append(
                (
                    ("failure_modes", index, "when"),
                    f"say whether this condition is per group or global: aggregate with "
                    f"`max by ({labels}) (...)` (per group) or `max(...)` (every group); "
                    f"this one {_keeps(mode.when)}",
                )
            )
        elif scope is ModeScope.GLOBAL:
            notes.append(
                (
                    ("failure_modes", index, "when"),
                    f"global failure mode: its condition keeps no group label ({labels}), so "
                    "while it holds it applies to every group",
                )
            )
    return problems, notes


def _scope(query: str, group_by: tuple[str, ...]) -> ModeScope | None:
    try:
        return query_scope(query, group_by)
    except ValueError:
        return ModeScope.GROUP  # not PromQL: its syntax is reported by the query check


def _keeps(query: str) -> str:
    kept = kept_labels(query)
    if kept is None:
        return "is not aggregated, so its labels are those of whatever series it selects"
    return f"keeps {', '.join(sorted(kept))}" if kept else "keeps no labels"
