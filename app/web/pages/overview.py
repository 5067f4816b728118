"""Overview: every SLO as a row — budget left, burn rates, policy, status, trend, firing alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html

from app.engine import views
from app.engine.ranges import RangeError, resolve_range
from app.engine.service import Engine
from app.slo.conventions import PolicyState, Status
from app.slo.report import SLOReport
from app.web import alerts, controls, group_rows
from app.web import components as ui
from app.web import format as fmt
from app.web.markup import raw_html
from app.web.pages import Context, Page
from app.web.slo_table import slo_table
from app.web.sparklines import sparklines
from app.web.urlstate import ViewState

POLICIES = tuple(PolicyState)
STATUSES = tuple(Status)


def label_options(engine: Engine) -> list[str]:
    return sorted(
        {f"{name}:{value}" for d in engine.definitions.slos for name, value in d.labels.items()}
    )


def filter_controls(engine: Engine, state: ViewState) -> html.Div:
    services = sorted({d.service for d in engine.definitions.slos})
    return controls.bar(
        controls.search_box(state),
        controls.multi_select("service", "Service", services, state.service),
        controls.multi_select("label", "Label", label_options(engine), state.label),
        controls.multi_select("policy", "Policy", POLICIES, state.policy),
        controls.multi_select("status", "Status", STATUSES, state.status),
        controls.sort_picker(state),
        group_rows.toggle(engine, state),
        controls.range_picker(state),
        controls.refresh_picker(state),
    )


def selection(state: ViewState) -> views.SLOFilter:
    """The API's filter for the page's state (raises FilterError for a malformed label)."""
    return views.SLOFilter(
        services=state.service,
        labels=[views.parse_label(text) for text in state.label],
        policies=state.policy,
        statuses=state.status,
        search=state.search or None,
    )


def _summary(reports: Sequence[SLOReport], total: int, firing: alerts.Alerts) -> html.Div:
    by_policy = {name: sum(1 for r in reports if r.policy == name) for name in POLICIES}
    items: list[Any] = [
        html.Span([html.B(str(total)), " SLOs"], id="overview-total", **{"data-value": total})
    ]
    items += [
        html.Span([ui.policy_badge(name), f" {count}"], className="summary-item")
        for name, count in by_policy.items()
        if count
    ]
    paging = len({alert.slo_key for alert in firing.firing if alert.severity == "page"})
    items.append(
        html.Span(
            f"{fmt.counted(len(firing.firing), 'alert')} firing "
            f"({fmt.counted(paging, 'SLO')} paging)"
            if firing.firing
            else "no alerts firing",
            className="muted",
        )
    )
    return html.Div(items, className="summary")


def _range_note(engine: Engine, state: ViewState) -> Any:
    """The overview's rows are the latest snapshots; only the trend lines follow the range."""
    start, end = state.range_params()
    try:
        resolve_range(start, end, engine.clock())  # checks a custom range once, for the message
    except RangeError as error:
        return ui.notice(f"Range: {error}", "bad", id="range-error")
    return None


def render(ctx: Context) -> Page:
    engine, state = ctx.engine, ctx.state
    problems: list[Any] = []
    try:
        listing = views.list_slos(engine, selection(state), sort=state.sort_key)
    except views.FilterError as error:
        problems.append(ui.notice(str(error), "bad"))
        listing = views.Listing([], 0)
    if state.range != "period":
        problems.append(_range_note(engine, state))
    firing = alerts.firing(engine)
    if firing.unavailable:
        problems.append(
            ui.notice(f"No alerts shown: {firing.unavailable}.", "muted", id="alerts-note")
        )
    sparks = sparklines(engine, [report.key for report in listing.reports], state)
    query = state.carried()
    body = [
        filter_controls(engine, state),
        *[item for item in problems if item is not None],
        _summary(listing.reports, listing.total, firing),
        raw_html(
            slo_table(
                listing.reports,
                sparks,
                firing,
                query,
                "overview-table",
                group_rows.overview_rows(engine, listing.reports, sparks, firing, state),
            ),
            "overview",
            className="table-wrap",
        )
        if listing.reports
        else ui.notice("No SLO matches these filters.", "muted", id="overview-empty"),
    ]
    return Page("SLOs", body)
