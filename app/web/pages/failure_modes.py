"""Failure modes across the organisation: what spent the most budget over a range, and where.

The page a reliability review starts from. It shows `GET /api/v1/attribution` for the same range,
grouping and services, ranked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from dash import html

from app.engine import spend
from app.engine.ranges import RangeError, resolve_range
from app.engine.view_models import Attribution, AttributionGroup
from app.web import components as ui
from app.web import controls, figures
from app.web import format as fmt
from app.web.markup import Markup, element, raw_html
from app.web.pages import Context, Page
from app.web.urlstate import ViewState

# Many SLOs have no single period: "period" on this page means the default 30 days.
PERIOD_SPAN = "30d"
SUM_NOTE = (
    "A group's figure is the sum, over the SLOs it hit, of the share of each SLO's budget it spent."
)
GROUP_TITLES = {
    "failure_mode": "Failure mode",
    "design_choice": "Design choice",
    "dependency": "Dependency",
}


def range_params(state: ViewState) -> tuple[str | None, str | None]:
    """(start, end) as GET /api/v1/attribution takes them for this page's state."""
    return state.range_params(PERIOD_SPAN)


def _number(value: float, text: str, classes: str = "num") -> Markup:
    return element("span", text, class_=classes, data_value=ui.raw(value))


def _slo_link(slo: str, query: str) -> Markup:
    return element("a", slo, href=ui.slo_href(slo, query), data_nav=True)


def whatif_href(slo: str, mode: str, query: str) -> str:
    """The SLO page's Replay panel with `mode` removed, over the same range."""
    joiner = "&" if query else "?"
    return ui.slo_href(slo, f"{query}{joiner}{urlencode({'wi_mode': mode, 'wi_edit': 'remove'})}")


def _whatif_link(slo: str, mode: str | None, query: str) -> Markup | None:
    if mode is None:
        return None
    href = whatif_href(slo, mode, query) + "#replay"
    return element("a", "what if fixed?", href=href, class_="whatif-link", data_whatif=mode)


def _slo_list(group: AttributionGroup, query: str, mode: str | None) -> Markup:
    items = [
        element(
            "li",
            _slo_link(share.slo, query),
            " ",
            _number(share.consumed, fmt.percent(share.consumed, 2), "num muted"),
            " ",
            _whatif_link(share.slo, mode, query),
            data_slo=share.slo,
            data_value=ui.raw(share.consumed),
        )
        for share in group.slos
        if share.consumed > 0
    ]
    return element("ul", items, class_="slo-list")


def _catalog(group: AttributionGroup) -> Markup:
    return element(
        "td",
        element("div", element("b", "Introduces: "), group.introduces)
        if group.introduces
        else None,
        element("div", element("b", "Verify: "), group.verification)
        if group.verification
        else None,
        class_="small",
    )


def mode_of(attribution: Attribution, group: AttributionGroup) -> str | None:
    """The failure mode a row is about, when rows are failure modes (its what-if link)."""
    return group.group if attribution.group_by == "failure_mode" else None


def ranking(attribution: Attribution, query: str) -> Markup:
    """`GET /api/v1/attribution` as a ranked table (HTML: an organisation has many modes)."""
    rows = [
        element(
            "tr",
            element("td", str(rank), class_="rank"),
            element(
                "td",
                element("b", group.group),
                element("div", group.design_choice or "", class_="muted small"),
            ),
            element(
                "td", _number(group.consumed, fmt.percent(group.consumed, 2)), class_="consumed"
            ),
            element("td", _number(group.bad, fmt.number(group.bad)), class_="bad"),
            element(
                "td",
                _slo_list(group, query, mode_of(attribution, group))
                if group.consumed > 0
                else element("span", "—", class_="muted"),
            ),
            _catalog(group),
            class_="group-row",
            data_group=group.group,
        )
        for rank, group in enumerate(attribution.groups, start=1)
    ]
    titles = (
        "#",
        GROUP_TITLES[attribution.group_by],
        "Budget consumed",
        "Bad",
        "SLOs it hit",
        "Catalog",
    )
    head = element("thead", element("tr", [element("th", title) for title in titles]))
    return element(
        "table", head, element("tbody", rows), id="ranking-table", class_="data-table ranking"
    )


def unattributed(attribution: Attribution, query: str) -> Any:
    if not attribution.unattributed:
        return html.P(
            "Every bad event in this range is explained by a named failure mode.", className="muted"
        )
    items = [
        element(
            "li",
            _slo_link(share.slo, query),
            " ",
            _number(share.consumed, fmt.percent(share.consumed, 2)),
            element("span", f" ({fmt.percent(share.share)} of its bad events)", class_="muted"),
            data_slo=share.slo,
            data_value=ui.raw(share.consumed),
        )
        for share in attribution.unattributed
    ]
    return raw_html(element("ul", items, id="unattributed-list", class_="slo-list"), "unattributed")


def render(ctx: Context) -> Page:
    engine, state = ctx.engine, ctx.state
    services = sorted({d.service for d in engine.definitions.slos})
    bar = controls.bar(
        controls.group_picker(state),
        controls.multi_select("service", "Service", services, state.service),
        controls.range_picker(state, period_label="30d"),
        controls.refresh_picker(state),
    )
    start, end = range_params(state)
    try:
        window, _ = resolve_range(start or "now-7d", end, engine.clock())
    except RangeError as error:
        return Page("Failure modes", [bar, ui.notice(f"Range: {error}", "bad", id="range-error")])
    attribution = spend.org_attribution(engine, window, state.grouping, state.service)
    query = state.carried()
    hours = spend.hour_range(window)
    spent = [group for group in attribution.groups if group.consumed > 0]
    chart = (
        figures.org_ranking(attribution, ctx.theme)
        if spent
        else figures.empty("no named failure mode spent budget in this range", ctx.theme)
    )
    body = [
        bar,
        html.P(
            f"{fmt.moment(hours.start)} → {fmt.moment(hours.end)} (whole hours). {SUM_NOTE}",
            className="muted small",
            id="range-text",
        ),
        ui.section(
            "Ranking",
            ui.graph("chart-ranking", chart),
        ),
        ui.section(
            f"By {GROUP_TITLES[attribution.group_by].lower()}",
            raw_html(ranking(attribution, query), "ranking", className="table-wrap"),
        ),
        ui.section(
            "Unattributed",
            unattributed(attribution, query),
            note="Spent by causes no failure mode names yet: the next failure modes to write.",
        ),
    ]
    return Page("Failure modes", body)
