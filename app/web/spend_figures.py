"""Figures that rank who spent a budget. Unattributed spend is a bar like any other, and every
bar's length is its budget share on a linear axis from zero, so areas compare honestly."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from app.engine.view_models import Attribution
from app.slo.spenders import UNATTRIBUTED
from app.web.theme import UNATTRIBUTED as UNATTRIBUTED_COLOUR
from app.web.theme import Theme, layout, mode_colours

UNNAMED_PATTERN = "/"  # hatching marks the unattributed bar whatever the SLO colours
SHARE_AXIS = "share of each SLO's budget for the range, summed (100% = one SLO's budget)"


@dataclass(frozen=True)
class Spend:
    """One failure mode's spend in a range, with where it sits in the design."""

    design_choice: str
    failure_mode: str
    dependency: str
    consumed: float


def org_ranking(attribution: Attribution, theme: Theme, limit: int = 15) -> go.Figure:
    """The top groups by budget consumed, unattributed ranked among them; each bar is split by
    the SLOs it hit."""
    rows: list[tuple[str, dict[str, float]]] = [
        (group.group, {s.slo: s.consumed for s in group.slos if s.consumed > 0})
        for group in attribution.groups
        if group.consumed > 0
    ]
    unnamed = {s.slo: s.consumed for s in attribution.unattributed if s.consumed > 0}
    if unnamed:
        rows.append((UNATTRIBUTED, unnamed))
    rows = sorted(rows, key=lambda row: -math.fsum(row[1].values()))[:limit]
    slos = sorted({slo for _, by_slo in rows for slo in by_slo})
    colours = mode_colours(slos)  # the same palette, keyed by SLO
    figure = go.Figure()
    names = [name for name, _ in reversed(rows)]  # the top row drawn at the top
    for slo in slos:
        figure.add_bar(
            x=[by_slo.get(slo, 0.0) for _, by_slo in reversed(rows)],
            y=names,
            name=slo,
            orientation="h",
            marker={
                "color": colours[slo],
                "pattern": {
                    "shape": [UNNAMED_PATTERN if name == UNATTRIBUTED else "" for name in names]
                },
            },
            hovertemplate="%{y}: %{x:.1%} of " + slo + "'s budget<extra></extra>",
        )
    legend_rows = -(-len(slos) // 3)  # the legend sits on top, about three SLOs a line
    top = 16 + 20 * legend_rows
    height = max(220, top + 50 + 28 * len(rows))
    figure.update_layout(
        layout(
            theme,
            barmode="stack",
            height=height,
            hovermode="closest",
            xaxis={
                "type": "linear",
                "tickformat": ".0%",
                "title": SHARE_AXIS,
                "rangemode": "tozero",
            },
            yaxis={"type": "category", "categoryorder": "array", "categoryarray": names},
            margin={"l": 160, "r": 12, "t": top, "b": 40},
        )
    )
    return figure


def attribution_bars(
    spends: Sequence[Spend], unattributed: float, colours: dict[str, str], theme: Theme
) -> go.Figure:
    """Design choice → failure mode → dependency as one stacked bar per design choice (and one
    for unattributed), on a linear axis from zero: a bar's length is the budget it spent."""
    by_choice: dict[str, float] = {}
    for item in spends:
        by_choice[item.design_choice] = by_choice.get(item.design_choice, 0.0) + item.consumed
    bars = sorted(by_choice, key=lambda choice: -by_choice[choice])
    totals = {**by_choice}
    if unattributed > 0:
        bars.append(UNATTRIBUTED)
        totals[UNATTRIBUTED] = unattributed
    bars.sort(key=lambda bar: -totals[bar])
    order = list(reversed(bars))  # the largest at the top
    figure = go.Figure()
    for item in sorted(spends, key=lambda spend: -spend.consumed):
        figure.add_bar(
            x=[item.consumed],
            y=[item.design_choice],
            name=item.failure_mode,
            orientation="h",
            marker={"color": colours.get(item.failure_mode, theme.muted)},
            text=[f"{item.failure_mode} → {item.dependency}"],
            textposition="inside",
            insidetextanchor="start",
            hovertemplate=(
                f"{item.design_choice} → {item.failure_mode} → {item.dependency}: "
                "%{x:.2%} of the range's budget<extra></extra>"
            ),
        )
    if unattributed > 0:
        figure.add_bar(
            x=[unattributed],
            y=[UNATTRIBUTED],
            name=UNATTRIBUTED,
            orientation="h",
            marker={"color": UNATTRIBUTED_COLOUR},
            text=["no failure mode names it"],
            textposition="inside",
            insidetextanchor="start",
            hovertemplate="unattributed: %{x:.2%} of the range's budget<extra></extra>",
        )
    figure.update_layout(
        layout(
            theme,
            barmode="stack",
            height=max(180, 90 + 40 * len(order)),
            hovermode="closest",
            showlegend=False,  # each segment is labelled; the bars' names are the axis
            uniformtext={"minsize": 11, "mode": "hide"},  # a label too small to read is hidden
            xaxis={
                "type": "linear",
                "tickformat": ".1%",
                "rangemode": "tozero",
                "title": "share of the range's budget",
            },
            yaxis={"type": "category", "categoryorder": "array", "categoryarray": order},
            margin={"l": 130, "r": 12, "t": 12, "b": 44},
        )
    )
    return figure
