"""Small building blocks shared by the pages: figures with their exact values attached, budget
bars, badges, sparkline images and graphs.

Every number a test compares carries its raw value in a `data-value` attribute (Python's `repr`,
which round-trips a float exactly) next to the formatted text people read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from app.slo.conventions import PolicyState, Status
from app.web import format as fmt
from app.web.group_links import href_of_key

SPARK_WIDTH, SPARK_HEIGHT = 120, 28
SPARK_FLOOR = -0.2  # overspending shows as a dip under the dashed zero line, then the floor


def raw(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def figure(value: float | None, text: str, classes: str = "num", **attributes: Any) -> html.Span:
    """A number as text, with its exact value for machines."""
    return html.Span(text, className=classes, **{"data-value": raw(value)}, **attributes)


def slug(key: str) -> str:
    """An SLO key as an element id: `checkout/checkout-success` → `checkout--checkout-success`."""
    return key.replace("/", "--").replace(".", "_")


def slo_href(key: str, query: str = "") -> str:
    """An SLO's page; a group's (an alert of one group) is its SLO's page with the group chosen."""
    return href_of_key(key, query)


def budget_level(remaining: float) -> str:
    """The bar's colour: the default budget policy's watch (½) and at-risk (¼) lines."""
    return "good" if remaining >= 0.5 else "warn" if remaining > 0.25 else "bad"


def budget_bar(remaining: float, **attributes: Any) -> html.Div:
    """Remaining budget as a bar (empty when overspent) with the exact figure beside it."""
    width = max(0.0, min(1.0, remaining)) * 100
    level = budget_level(remaining)
    return html.Div(
        [
            html.Div(
                html.Div(className=f"bar-fill {level}", style={"width": f"{width:.1f}%"}),
                className="bar",
                role="meter",
                **{"aria-valuemin": 0, "aria-valuemax": 1, "aria-valuenow": round(remaining, 4)},
            ),
            figure(remaining, fmt.percent(remaining), "num bar-text"),
        ],
        className="budget",
        **attributes,
    )


# Keyed by the enums' values, so a status or policy read back from JSON finds its class too.
STATUS_CLASS: dict[str, str] = {
    Status.OK: "ok",
    Status.NO_DATA: "muted",
    Status.STALE: "warn",
    Status.ERROR: "bad",
}
POLICY_CLASS: dict[str, str] = {
    PolicyState.HEALTHY: "ok",
    PolicyState.WATCH: "info",
    PolicyState.AT_RISK: "warn",
    PolicyState.EXHAUSTED: "bad",
}
SEVERITY_CLASS = {"page": "bad", "ticket": "warn"}


def badge(text: str, level: str, **attributes: Any) -> html.Span:
    return html.Span(text, className=f"badge {level}", **attributes)


def status_badge(status: str, error: str | None) -> html.Span:
    return badge(status, STATUS_CLASS.get(status, "muted"), title=error or status)


def policy_badge(policy: str) -> html.Span:
    return badge(policy, POLICY_CLASS.get(policy, "muted"))


def sparkline_src(values: Sequence[float]) -> str:
    """A line of `values` as an inline SVG image (a data URI): cheap enough for hundreds of rows.

    Every line is drawn on the same scale, from 1 (untouched) down to -0.2 (anything lower sits
    on the floor), so rows compare at a glance and 0–100 % fills most of the height; the dashed
    line is 0, where the budget is gone. A single value is a dot.
    """
    low, high = SPARK_FLOOR, 1.0

    def y(value: float) -> float:
        clamped = max(low, min(high, value))
        return round(2 + (high - clamped) / (high - low) * (SPARK_HEIGHT - 4), 1)

    step = (SPARK_WIDTH - 4) / max(len(values) - 1, 1)
    points = [(f"{2 + i * step:.1f}".removesuffix(".0"), y(v)) for i, v in enumerate(values)]
    if len(points) > 1:
        path = " ".join(f"{x},{y_}" for x, y_ in points)
        line = (
            f'<polyline points="{path}" fill="none" stroke="#3b82f6" stroke-width="1.6" '
            'stroke-linejoin="round"/>'
        )
    elif points:
        line = f'<circle cx="{SPARK_WIDTH - 4}" cy="{points[0][1]}" r="2.5" fill="#3b82f6"/>'
    else:
        line = ""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}">'
        f'<line x1="0" x2="{SPARK_WIDTH}" y1="{y(0.0)}" y2="{y(0.0)}" stroke="#9ca3af" '
        f'stroke-dasharray="3 3" stroke-width="1"/>{line}</svg>'
    )
    # Only what a data URI in an HTML attribute needs escaped: half the size of `quote(svg)`.
    compact = svg.replace('"', "'").replace("<", "%3C").replace(">", "%3E").replace("#", "%23")
    return "data:image/svg+xml," + compact


def sparkline_title(values: Sequence[float]) -> str:
    """The sparkline's tooltip: where the budget started and ended over the range, its lowest."""
    if not values:
        return "no data in this range"
    return (
        f"budget left over the range: {fmt.percent(values[0])} → {fmt.percent(values[-1])}"
        f" (lowest {fmt.percent(min(values))})"
    )


def section(
    title: str, *children: Any, note: str | None = None, classes: str = "card", **attributes: Any
) -> html.Section:
    head: list[Any] = [html.H2(title)]
    if note:
        head.append(html.P(note, className="note"))
    return html.Section([*head, *children], className=classes, **attributes)


def notice(text: str, level: str = "info", **attributes: Any) -> html.Div:
    return html.Div(text, className=f"notice {level}", role="status", **attributes)


# No toolbar: it covered the legends; double-click still resets a zoom.
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}


def graph(graph_id: str, figure: Any) -> dcc.Graph:
    """A Plotly figure in a box of exactly its own height, so cards never overlap it."""
    layout = figure["layout"] if isinstance(figure, dict) else figure.layout
    height = layout["height"] if isinstance(layout, dict) else layout.height
    return dcc.Graph(
        id=graph_id,
        figure=figure,
        config=GRAPH_CONFIG,
        className="graph",
        style={"height": f"{height or 280}px"},
    )


def link(text: str, href: str, **attributes: Any) -> dcc.Link:
    return dcc.Link(text, href=href, **attributes)
