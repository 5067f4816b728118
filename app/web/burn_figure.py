"""The burn-rate chart: one panel per alert tier, each with the two windows that tier judges.

A tier fires when its long and its short window both burn above its threshold, so each panel
draws exactly those two lines (long solid, short dotted) and that threshold. The y-axis follows
the data, not the threshold: a burn of 0.4 must not lie flat under a 14.4 line. A threshold
above the data is a labelled marker at the panel's top edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.engine.views import BurnSeries
from app.web import format as fmt
from app.web.theme import WINDOW_COLOURS, Theme, layout

PANEL_HEIGHT = 120
TOP, BOTTOM = 64, 28  # margins: the legend above the panels, dates below
HEADROOM = 1.2  # the axis top over the highest point drawn
FLOOR = 1.0  # at least up to 1, the rate that spends the budget exactly over the period
NOTE = (
    "One panel per alert tier: it fires when its long window (solid) and short window (dotted) "
    "both burn above its threshold; 1 spends the budget exactly over the period. "
    "The legend gives each window's colour."
)


@dataclass(frozen=True)
class Threshold:
    tier: str
    severity: str
    long_window: str
    short_window: str
    factor: float
    long_seconds: int = 0
    short_seconds: int = 0


def axis_top(peak: float) -> float:
    """The panel's y-axis top for the highest point drawn in it."""
    return max(FLOOR, peak * HEADROOM)


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _peak(lines: Sequence[BurnSeries]) -> float:
    return max((rate for line in lines for rate in line.rates if rate is not None), default=0.0)


def burn_panels(
    series: Sequence[BurnSeries], thresholds: Sequence[Threshold], theme: Theme
) -> go.Figure:
    by_label = {line.label: line for line in series}
    # A tier none of whose windows fit the range's step has no panel; the page's note names
    # the windows left out.
    tiers = [t for t in thresholds if t.long_window in by_label or t.short_window in by_label]
    titles = [
        f"{t.tier} ({t.severity}): {t.long_window} and {t.short_window} "
        f"above {fmt.factor(t.factor)}"
        for t in tiers
    ]
    figure = make_subplots(
        rows=max(len(tiers), 1),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12 if len(tiers) > 1 else 0.0,
        subplot_titles=titles or None,
    )
    for annotation in figure.layout.annotations:  # so far only the panels' titles
        annotation.font = {"size": 11, "color": theme.muted}
        annotation.xanchor, annotation.x = "left", 0
    in_legend: set[str] = set()
    for row, tier in enumerate(tiers, start=1):
        pair = [(tier.long_window, "solid", 1.8), (tier.short_window, "dot", 1.4)]
        drawn = [by_label[label] for label, _, _ in pair if label in by_label]
        for label, dash, width in pair:
            line = by_label.get(label)
            if line is None:
                continue  # this window is not a multiple of the chart's step
            figure.add_scatter(
                x=[_time(t) for t in line.times],
                y=line.rates,
                name=label,
                legendgroup=label,
                showlegend=label not in in_legend,
                mode="lines",
                line={
                    "color": WINDOW_COLOURS.get(label, theme.muted),
                    "dash": dash,
                    "width": width,
                },
                hovertemplate="%{y:.2f}<extra>" + f"{label} ({tier.tier})" + "</extra>",
                row=row,
                col=1,
            )
            in_legend.add(label)
        top = axis_top(_peak(drawn))
        figure.update_yaxes(range=[0, top], row=row, col=1, gridcolor=theme.grid)
        _threshold(figure, tier, row, top, theme)
    height = TOP + BOTTOM + PANEL_HEIGHT * max(len(tiers), 1)
    plot_height = height - TOP - BOTTOM
    figure.update_layout(
        layout(
            theme,
            height=height,
            margin={"l": 44, "r": 12, "t": TOP, "b": BOTTOM},
            # Above the first panel's title, which sits on the plot area's top edge.
            legend={"y": 1 + 20 / plot_height, "yanchor": "bottom", "title": {"text": "window "}},
        )
    )
    times = [t for line in series for t in line.times]
    span = [_time(min(times)), _time(max(times))] if times else None
    figure.update_xaxes(gridcolor=theme.grid, type="date", range=span)
    return figure


def _threshold(figure: go.Figure, tier: Threshold, row: int, top: float, theme: Theme) -> None:
    colour = WINDOW_COLOURS.get(tier.long_window, theme.muted)
    if tier.factor <= top:
        figure.add_hline(
            y=tier.factor,
            line={"color": colour, "dash": "dash", "width": 1.2},
            annotation={"text": f"fires above {fmt.factor(tier.factor)}", "font": {"size": 10}},
            annotation_position="top right",
            row=row,
            col=1,
        )
        return
    yref = "y domain" if row == 1 else f"y{row} domain"
    xref = "x domain" if row == 1 else f"x{row} domain"
    figure.add_annotation(
        text=f"▲ fires above {fmt.factor(tier.factor)} (off scale)",
        x=1,
        y=1,
        xref=xref,
        yref=yref,
        xanchor="right",
        yanchor="top",
        showarrow=False,
        font={"size": 10, "color": colour},
        name=f"off-scale {tier.tier}",
    )
