"""Grafana panels of a grouped SLO (`group_by`): its groups, filtered by a variable per label.

Faultline's `/metrics` gauges are per SLO (a grouped SLO's groups are in its API and UI, not in
`/metrics`, where 500 groups × 20 gauges would swamp Prometheus), so the per-group panels ask the
SLI itself, with the same expressions `faultline rules` records (`app.slo.promexpr`): each
group's error ratio over a window divided by the budget is its burn rate.

Each group label gets a template variable of its own, named like the label (`$region`; a label
named `datasource` becomes `$group_datasource`), whose values are `label_values(...)` of the
SLI's first selector (a threshold's: its gauge's); "All" is `.*`. The panels keep the groups
the variables select with `and on (labels) group by (labels) (selector{label=~"$label"})`, so
the SLI queries themselves are used as written. An SLO budgeted in time slices (a threshold
SLI, or `timeslices` of events) shows each group's share of bad slices: `avg_over_time` of the
slice condition `faultline rules` records, as a subquery stepped by the slice.
"""

from __future__ import annotations

from typing import Any

import promql_parser

from app.interop.grafana_panels import Layout, bar_gauge, query_variable, target, timeseries
from app.slo import promql
from app.slo.definitions import SLODefinition
from app.slo.durations import format_duration
from app.slo.promexpr import bad_slice, events_signals, is_timeslices, number

RESERVED_VARIABLES = frozenset({"datasource"})
BURN_WINDOW = 3600  # the timeseries: burn over the last hour, like the page tier's long window
WORST_WINDOW = 86400  # the bar gauge: the worst groups over a day


def variable_name(label: str) -> str:
    return f"group_{label}" if label in RESERVED_VARIABLES else label


def sli_selector(definition: SLODefinition) -> str | None:
    """The first vector selector of the SLI's `total` query (`http_requests_total{...}`), or
    of a threshold's gauge."""
    sli = definition.spec.sli
    signals = events_signals(definition.spec)
    if sli is not None and sli.threshold is not None:
        query = sli.threshold.query
    elif signals is not None:
        query = signals.total.query
    else:
        return None
    expr = promql_parser.parse(promql.render(query, 60))
    for node in promql.nodes(expr):
        if isinstance(node, promql_parser.MatrixSelector):
            node = node.vector_selector  # noqa: PLW2901 - the selector of `x[5m]`
        if isinstance(node, promql_parser.VectorSelector):
            return str(node)
    return None


def with_matchers(selector: str, labels: tuple[str, ...]) -> str:
    """`selector` narrowed to the values of each label's variable."""
    added = ",".join(f'{label}=~"${variable_name(label)}"' for label in labels)
    if selector.endswith("}"):
        inner = selector[:-1]
        return f"{inner}{',' if not inner.endswith('{') else ''}{added}}}"
    return f"{selector}{{{added}}}"


def group_variables(definitions: list[SLODefinition]) -> list[dict[str, Any]]:
    """One variable per group label of the service's grouped SLOs, in order of appearance;
    a label shared by several SLOs takes its values from the first SLO's selector."""
    variables: dict[str, dict[str, Any]] = {}
    for definition in definitions:
        selector = sli_selector(definition)
        for label in definition.spec.group_by or ():
            name = variable_name(label)
            if selector is None or name in variables:
                continue
            query = f"label_values({selector}, {label})"
            variables[name] = query_variable(name, label, query)
    return list(variables.values())


def burn_by_group(definition: SLODefinition, window: int) -> str | None:
    """Each selected group's burn rate over `window`, from the SLI."""
    spec = definition.spec
    signals = events_signals(spec)
    selector = sli_selector(definition)
    group_by = spec.group_by or ()
    if selector is None or not group_by:
        return None
    labels = ", ".join(group_by)
    chosen = f"group by ({labels}) ({with_matchers(selector, group_by)})"
    if is_timeslices(spec):
        span = f"{format_duration(window)}:{format_duration(spec.slice_seconds)}"
        ratio = f"avg_over_time(({bad_slice(spec)})[{span}])"
    elif signals is not None:
        ratio = signals.error_ratio(window)
    else:
        return None
    return f"(({ratio}) / {number(definition.spec.budget)}) and on ({labels}) {chosen}"


def group_panels(layout: Layout, definition: SLODefinition, steps: dict[str, Any]) -> None:
    """The grouped SLO's groups: burn over the last hour, and the worst over a day."""
    group_by = definition.spec.group_by or ()
    hourly, daily = burn_by_group(definition, BURN_WINDOW), burn_by_group(definition, WORST_WINDOW)
    if hourly is None or daily is None:
        return
    legend = "/".join(f"{{{{{label}}}}}" for label in group_by)
    named = ", ".join(f"${variable_name(label)}" for label in group_by)
    layout.add(
        timeseries(
            f"Burn rate over 1h by {', '.join(group_by)}",
            [target(hourly, legend)],
            steps=steps,
            threshold_lines=True,
            description=f"Each group's bad / total over the last hour from the SLI, divided by "
            f"the budget (as `faultline rules` records it); the groups chosen in {named}. "
            "Dashed lines: the alert tiers' factors.",
        ),
        14,
        8,
    )
    layout.add(
        bar_gauge(
            f"Worst {', '.join(group_by)}: burn rate over 1d",
            [target(f"sort_desc({daily})", legend, instant=True)],
            description="Each group's burn rate over the last day from the SLI, worst first.",
        ),
        10,
        8,
    )
