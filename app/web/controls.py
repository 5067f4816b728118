"""The controls of a page. Each has the id `{"control": <state field>}`: one callback writes any
of them into the URL, and the page is then drawn from the URL alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from app.web.urlstate import RANGES, REFRESH_SECONDS, ViewState

RANGE_LABELS = {"period": "period", "7d": "7d", "1d": "1d", "6h": "6h", "custom": "custom"}
SORT_LABELS = {"remaining": "remaining budget", "burn_rate": "burn rate (1h)", "name": "name"}


def control_id(name: str) -> dict[str, str]:
    return {"control": name}


def field(label: str, control: Any, **attributes: Any) -> html.Label:
    return html.Label(
        [html.Span(label, className="field-label"), control], className="field", **attributes
    )


def range_picker(state: ViewState, period_label: str = "period") -> html.Div:
    """Period, 7d, 1d, 6h or a custom start and end (RFC 3339, epoch seconds or now-12h)."""
    options = [
        {"label": period_label if name == "period" else RANGE_LABELS[name], "value": name}
        for name in RANGES
    ]
    parts: list[Any] = [
        field(
            "Range",
            dcc.RadioItems(
                id=control_id("range"),
                options=options,
                value=state.range,
                inline=True,
                className="segmented",
            ),
        )
    ]
    if state.range == "custom":
        for name, value, hint in (
            ("start", state.start, "2024-03-04T00:00Z or now-12h"),
            ("end", state.end, "empty: now"),
        ):
            parts.append(
                field(
                    name.capitalize(),
                    dcc.Input(
                        id=control_id(name),
                        type="text",
                        value=value,
                        placeholder=hint,
                        debounce=True,
                        className="text-input",
                    ),
                )
            )
    return html.Div(parts, className="controls-group")


def refresh_picker(state: ViewState) -> html.Label:
    return field(
        "Auto-refresh",
        dcc.Dropdown(
            id=control_id("refresh"),
            options=[{"label": name, "value": name} for name in REFRESH_SECONDS],
            value=state.refresh,
            clearable=False,
            searchable=False,
            className="dropdown small",
        ),
    )


def multi_select(name: str, label: str, options: Sequence[str], value: Sequence[str]) -> html.Div:
    """A folded list of checkboxes: cheap to draw even with hundreds of rows on the page, and
    its summary says what is chosen."""
    chosen = ", ".join(value) if value else "all"
    return html.Div(
        [
            html.Span(label, className="field-label"),
            html.Details(
                [
                    html.Summary(chosen, title=chosen, className="picker-summary"),
                    dcc.Checklist(
                        id=control_id(name),
                        options=[{"label": option, "value": option} for option in options],
                        value=list(value),
                        className="picker-options",
                    ),
                ],
                className="picker",
            ),
        ],
        className="field",
    )


def search_box(state: ViewState) -> html.Label:
    return search_field("Search", "search", state.search, "service/slo")


def search_field(label: str, name: str, value: str, placeholder: str) -> html.Label:
    """A labelled search input for the URL key `name`, applied when typing pauses."""
    return field(
        label,
        dcc.Input(
            id=control_id(name),
            type="search",
            value=value,
            placeholder=placeholder,
            debounce=True,
            className="text-input",
        ),
    )


def sort_picker(state: ViewState) -> html.Label:
    return field(
        "Sort by",
        dcc.RadioItems(
            id=control_id("sort"),
            options=[{"label": text, "value": key} for key, text in SORT_LABELS.items()],
            value=state.sort,
            inline=True,
            className="segmented",
        ),
    )


def group_picker(state: ViewState) -> html.Label:
    labels = {
        "failure_mode": "failure mode",
        "design_choice": "design choice",
        "dependency": "dependency",
    }
    return field(
        "Group by",
        dcc.RadioItems(
            id=control_id("group_by"),
            options=[{"label": text, "value": key} for key, text in labels.items()],
            value=state.group_by,
            inline=True,
            className="segmented",
        ),
    )


def bar(*children: Any) -> html.Div:
    return html.Div(list(children), className="controls")
