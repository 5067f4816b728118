"""Plotly figures of the SLO and failure-mode pages, built from the shared read models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from app.engine.view_models import Attribution, History
from app.engine.views import BurnSeries
from app.web import format as fmt
from app.web.theme import UNATTRIBUTED, WINDOW_COLOURS, Theme, layout, mode_colours


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _times(history: History) -> list[datetime]:
    return [_time(fmt.epoch(point.t)) for point in history.points]


def burndown(history: History, remaining: Sequence[float], theme: Theme) -> go.Figure:
    """Budget left over the range against the straight line of spending it evenly.

    The line starts full at the beginning of the first bucket with data: before it there was no
    ledger, and drawing a decline across that gap would invent a burn.
    """
    start, end = _time(fmt.epoch(history.start)), _time(fmt.epoch(history.end))
    times = _times(history)
    first = max(
        fmt.epoch(history.start), fmt.epoch(history.points[0].t) - history.resolution_seconds
    )
    figure = go.Figure()
    figure.add_scatter(
        x=[start, end],
        y=[1.0, 0.0],
        name="ideal (even burn)",
        mode="lines",
        line={"color": theme.ideal, "dash": "dash", "width": 1.5},
        hoverinfo="skip",
    )
    figure.add_scatter(
        x=[_time(first), *times],
        y=[1.0, *remaining],
        name="remaining",
        mode="lines",
        line={"color": "#3b82f6", "width": 2},
        hovertemplate="%{y:.1%}<extra>remaining</extra>",
    )
    figure.update_layout(layout(theme, yaxis={"tickformat": ".0%"}))
    return figure


@dataclass(frozen=True)
class Threshold:
    tier: str
    severity: str
    long_window: str
    short_window: str
    factor: float


def burn_rates(
    series: Sequence[BurnSeries], thresholds: Sequence[Threshold], theme: Theme
) -> go.Figure:
    """Trailing-window burn rates over time, with each alert tier's factor drawn in the colour
    of its long window (the tier fires when the long and the short window both exceed it)."""
    figure = go.Figure()
    for line in series:
        figure.add_scatter(
            x=[_time(t) for t in line.times],
            y=line.rates,
            name=line.label,
            mode="lines",
            line={"color": WINDOW_COLOURS.get(line.label), "width": 1.6},
            hovertemplate="%{y:.2f}<extra>" + line.label + "</extra>",
        )
    for threshold in thresholds:
        figure.add_hline(
            y=threshold.factor,
            line={
                "color": WINDOW_COLOURS.get(threshold.long_window, theme.muted),
                "dash": "dot" if threshold.severity != "page" else "dash",
                "width": 1.2,
            },
            annotation={
                "text": f"{threshold.tier} {threshold.factor:g}",
                "font": {"size": 10, "color": theme.muted},
                "xanchor": "left",
            },
            annotation_position="top left",
        )
    figure.update_layout(layout(theme, yaxis={"rangemode": "tozero", "title": "burn rate"}))
    return figure


def sli(history: History, theme: Theme) -> go.Figure:
    objective = history.objective / 100
    times = _times(history)
    figure = go.Figure()
    figure.add_scatter(
        x=times,
        y=[point.sli for point in history.points],
        name="SLI",
        mode="lines",
        line={"color": "#10b981", "width": 1.6},
        hovertemplate="%{y:.4%}<extra>SLI</extra>",
    )
    if times:
        figure.add_scatter(
            x=[_time(fmt.epoch(history.start)), _time(fmt.epoch(history.end))],
            y=[objective, objective],
            name=f"objective {history.objective:g}%",
            mode="lines",
            line={"color": "#ef4444", "dash": "dash", "width": 1.2},
            hoverinfo="skip",
        )
    figure.update_layout(layout(theme, yaxis={"tickformat": ".2%"}))
    return figure


def consumed_by_mode(history: History, colours: dict[str, str], theme: Theme) -> go.Figure:
    """Budget each bucket spent, stacked by failure mode; unnamed causes in their own grey."""
    times = _times(history)
    names = list(history.points[0].consumed) if history.points else []
    figure = go.Figure()
    for name in names:
        figure.add_bar(
            x=times,
            y=[point.consumed.get(name, 0.0) for point in history.points],
            name=name,
            marker={"color": colours.get(name)},
            hovertemplate="%{y:.2%}<extra>" + name + "</extra>",
        )
    figure.add_bar(
        x=times,
        y=[point.unattributed for point in history.points],
        name="unattributed",
        marker={"color": UNATTRIBUTED},
        hovertemplate="%{y:.2%}<extra>unattributed</extra>",
    )
    figure.update_layout(layout(theme, barmode="stack", bargap=0.05, yaxis={"tickformat": ".1%"}))
    return figure


@dataclass(frozen=True)
class Spend:
    """One failure mode's spend in a range, with where it sits in the design."""

    design_choice: str
    failure_mode: str
    dependency: str
    consumed: float


def spend_sunburst(
    spends: Sequence[Spend], unattributed: float, colours: dict[str, str], theme: Theme
) -> go.Figure:
    """Design choice → failure mode → dependency, sized by budget consumed."""
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    marker: list[str] = []
    by_choice: dict[str, float] = {}
    for item in spends:
        by_choice[item.design_choice] = by_choice.get(item.design_choice, 0.0) + item.consumed
    for choice, total in by_choice.items():
        ids.append(choice)
        labels.append(choice)
        parents.append("")
        values.append(total)
        marker.append("")
    for item in spends:
        mode_id = f"{item.design_choice}/{item.failure_mode}"
        ids += [mode_id, f"{mode_id}/{item.dependency}"]
        labels += [item.failure_mode, item.dependency]
        parents += [item.design_choice, mode_id]
        values += [item.consumed, item.consumed]
        colour = colours.get(item.failure_mode, theme.muted)
        marker += [colour, colour]
    if unattributed > 0:
        ids.append("unattributed")
        labels.append("unattributed")
        parents.append("")
        values.append(unattributed)
        marker.append(UNATTRIBUTED)
    figure = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker={"colors": marker},
            hovertemplate="%{label}: %{value:.2%} of the budget<extra></extra>",
            insidetextorientation="horizontal",
            textfont={"size": 12},
        )
    )
    figure.update_layout(layout(theme, height=320, margin={"l": 4, "r": 4, "t": 4, "b": 4}))
    return figure


def org_ranking(attribution: Attribution, theme: Theme, limit: int = 15) -> go.Figure:
    """The top groups by budget consumed, each bar split by the SLOs it hit."""
    groups = [group for group in attribution.groups if group.consumed > 0][:limit]
    slos = sorted({share.slo for group in groups for share in group.slos if share.consumed > 0})
    colours = mode_colours(slos)  # the same palette, keyed by SLO
    figure = go.Figure()
    for slo in slos:
        x, y = [], []
        for group in reversed(groups):
            value = next((s.consumed for s in group.slos if s.slo == slo), 0.0)
            x.append(value)
            y.append(group.group)
        figure.add_bar(
            x=x,
            y=y,
            name=slo,
            orientation="h",
            marker={"color": colours[slo]},
            hovertemplate="%{y}: %{x:.1%} of " + slo + "<extra></extra>",
        )
    legend_rows = -(-len(slos) // 3)  # the legend sits on top, about three SLOs a line
    top = 16 + 20 * legend_rows
    height = max(220, top + 50 + 28 * len(groups))
    figure.update_layout(
        layout(
            theme,
            barmode="stack",
            height=height,
            hovermode="closest",
            xaxis={
                "type": "linear",
                "tickformat": ".0%",
                "title": "budget consumed (summed over SLOs)",
            },
            margin={"l": 160, "r": 12, "t": top, "b": 40},
        )
    )
    return figure


def empty(message: str, theme: Theme) -> dict[str, Any]:
    """A figure that says why it is empty rather than drawing blank axes."""
    return {
        "data": [],
        "layout": layout(
            theme,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "showarrow": False,
                    "font": {"color": theme.muted, "size": 13},
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                }
            ],
        ),
    }
