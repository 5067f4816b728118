"""Plotly figures of the SLO and failure-mode pages, built from the shared read models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from app.engine.view_models import History
from app.web import format as fmt
from app.web.theme import UNATTRIBUTED, Theme, layout


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _times(history: History) -> list[datetime]:
    return [_time(fmt.epoch(point.t)) for point in history.points]


def burndown(
    history: History, remaining: Sequence[float], theme: Theme, period_end: int | None = None
) -> go.Figure:
    """Budget left over the range against the straight line of spending it evenly.

    The line starts full at the beginning of the first bucket with data: before it there was no
    ledger, and drawing a decline across that gap would invent a burn. For a calendar period in
    progress (`period_end`), the even burn reaches zero when the period ends, not today.
    """
    start = _time(fmt.epoch(history.start))
    end = _time(period_end if period_end is not None else fmt.epoch(history.end))
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
