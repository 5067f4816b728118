"""Failure modes across the organisation: what spent the most budget over a range, and where.

The page a reliability review starts from. It shows `GET /api/v1/attribution` for the same range,
grouping and services, ranked.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from dash import html

from app.engine import spend
from app.engine.ranges import RangeError, resolve_range
from app.engine.view_models import Attribution, AttributionGroup, SLOShare
from app.slo.spec import Budgeting
from app.slo.spenders import UNATTRIBUTED
from app.slo.windows import Window, align_up
from app.web import components as ui
from app.web import controls, figures, spend_figures
from app.web import format as fmt
from app.web.markup import Markup, element, raw_html
from app.web.pages import Context, Page
from app.web.urlstate import ViewState

# Many SLOs have no single period: "period" on this page means the default 30 days.
PERIOD_SPAN = "30d"
SUM_NOTE = (
    "Budget figures are shares of each SLO's budget for this range; a row adds them over the "
    "SLOs it hit, so 100% is one SLO's whole budget. Unattributed spend is ranked with the rest."
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


def _share_item(share: SLOShare, query: str, mode: str | None = None) -> Markup:
    return element(
        "li",
        _slo_link(share.slo, query),
        " ",
        _number(share.consumed, fmt.percent(share.consumed, 2), "num muted"),
        " ",
        _whatif_link(share.slo, mode, query),
        data_slo=share.slo,
        data_value=ui.raw(share.consumed),
    )


def _slo_list(group: AttributionGroup, query: str, mode: str | None) -> Markup:
    items = [_share_item(share, query, mode) for share in group.slos if share.consumed > 0]
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


def _bad_cell(shares: list[SLOShare], units: dict[str, int]) -> Markup:
    """Bad requests and bad time, each summed apart: a minute is not a request.

    `units` maps an SLO to its slice length for timeslice SLOs; events SLOs are absent.
    """
    events = math.fsum(s.bad or 0.0 for s in shares if s.slo not in units)
    seconds = math.fsum((s.bad or 0.0) * units[s.slo] for s in shares if s.slo in units)
    parts: list[Markup | str] = []
    if events or not seconds:
        parts.append(element("span", f"{fmt.number(events)} events", data_events=ui.raw(events)))
    if seconds:
        text = f"{fmt.duration(seconds)} bad"
        parts.append(element("span", text, class_="muted", data_seconds=ui.raw(seconds)))
    return element("td", [element("div", part) for part in parts], class_="bad small")


def _unattributed_row(attribution: Attribution, rank: int, units: dict[str, int]) -> Markup:
    shares = [share for share in attribution.unattributed if share.consumed > 0]
    consumed = math.fsum(share.consumed for share in shares)
    note = element("div", "no failure mode names it: the next ones to write", class_="muted small")
    return element(
        "tr",
        element("td", str(rank), class_="rank"),
        element("td", element("b", UNATTRIBUTED), note),
        element("td", _number(consumed, fmt.percent(consumed, 2)), class_="consumed"),
        _bad_cell(shares, units),
        element("td", element("ul", [_share_item(share, "") for share in shares])),
        element("td", ""),
        class_="unattributed-row",
        data_group=UNATTRIBUTED,
    )


def ranked_rows(attribution: Attribution) -> list[AttributionGroup | None]:
    """The groups in rank order with the unattributed spend (None) at its place by consumed."""
    total = math.fsum(share.consumed for share in attribution.unattributed)
    rows: list[AttributionGroup | None] = list(attribution.groups)
    if total <= 0:
        return rows
    place = next((i for i, group in enumerate(rows) if group and group.consumed < total), len(rows))
    rows.insert(place, None)
    return rows


def ranking(attribution: Attribution, query: str, units: dict[str, int]) -> Markup:
    """`GET /api/v1/attribution` as a ranked table (HTML: an organisation has many modes)."""
    rows = [
        _unattributed_row(attribution, rank, units)
        if group is None
        else element(
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
            _bad_cell(group.slos, units),
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
        for rank, group in enumerate(ranked_rows(attribution), start=1)
    ]
    titles = (
        "#",
        GROUP_TITLES[attribution.group_by],
        "Budget consumed (range)",
        "Bad (events; time)",
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
        now = int(engine.clock())
        window, _ = resolve_range(start or "now-7d", end, now)
    except RangeError as error:
        return Page("Failure modes", [bar, ui.notice(f"Range: {error}", "bad", id="range-error")])
    # A long range's end is aligned up to its buckets: hours after this one hold nothing yet,
    # so the range says it ends with this hour (the sums are the API's all the same).
    window = Window(window.start, max(window.start + 1, min(window.end, align_up(now, 3600))))
    attribution = spend.org_attribution(engine, window, state.grouping, state.service)
    query = state.carried()
    hours = spend.hour_range(window)
    units = {
        d.key: d.spec.slice_seconds
        for d in engine.definitions.slos
        if d.spec.effective_budgeting is Budgeting.TIMESLICES
    }
    spent = any(group.consumed > 0 for group in attribution.groups) or any(
        share.consumed > 0 for share in attribution.unattributed
    )
    chart = (
        spend_figures.org_ranking(attribution, ctx.theme)
        if spent
        else figures.empty("no budget was spent in this range", ctx.theme)
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
            note="Each bar is split by the SLOs it hit; the hatched bar is unattributed.",
        ),
        ui.section(
            f"By {GROUP_TITLES[attribution.group_by].lower()}",
            raw_html(ranking(attribution, query, units), "ranking", className="table-wrap"),
        ),
        ui.section(
            "Unattributed",
            unattributed(attribution, query),
            note="Spent by causes no failure mode names yet: the next failure modes to write.",
        ),
    ]
    return Page("Failure modes", body)
