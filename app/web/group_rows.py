"""Rows of groups in the SLO tables: a grouped SLO's worst groups on its page, and on the
overview either a hint on the SLO's row (collapsed: "N groups, worst: X") or its worst groups
as indented rows beneath it (expanded, `?groups=expanded`).

A group's row is an SLO row (`app.web.slo_table.row`) of the group's status snapshot, with the
group's name linking to its page and the budget it consumed in the period under it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from dash import dcc, html

from app.engine import group_views
from app.engine.group_views import GroupListing
from app.engine.service import Engine
from app.slo.report import SLOReport
from app.web import alerts
from app.web import format as fmt
from app.web.controls import control_id, field
from app.web.group_links import group_href, group_name
from app.web.markup import Markup, element, join
from app.web.slo_table import HEADERS, number, row, slo_table
from app.web.sparklines import Sparkline, trend_lines
from app.web.urlstate import ViewState

WORST_ON_PAGE = 10  # an SLO page's worst groups
WORST_ON_OVERVIEW = 5  # an expanded overview's groups under each grouped SLO


def group_labels(report: SLOReport, group_by: Sequence[str]) -> dict[str, str]:
    return {name: report.labels.get(name, "") for name in group_by}


def group_row(
    report: SLOReport,
    slo_key: str,
    listing: GroupListing,
    firing: alerts.Alerts,
    query: str,
    spark: Sparkline | None,
    classes: str = " group-row",
) -> Markup:
    labels = group_labels(report, listing.group_by)
    name = group_name(labels)
    label = join(
        [
            element(
                "a",
                name,
                href=group_href(slo_key, labels, query),
                class_="slo-link group-link",
                data_nav=True,
                data_group=name,
            ),
            element(
                "div",
                "consumed ",
                number(report.budget.consumed, fmt.percent(report.budget.consumed)),
                class_="muted small group-consumed",
            ),
        ]
    )
    return row(report, spark, firing, query, label=label, classes=classes)


def group_trends(
    engine: Engine, worst: Mapping[str, GroupListing], state: ViewState
) -> dict[str, Sparkline]:
    """The groups' trend lines, as the SLOs' (`app.web.sparklines`), in one query."""
    ledgers = {}
    for key, listing in worst.items():
        ledgers.update(
            group_views.group_ledgers(engine, key, [report.key for report in listing.reports])
        )
    return trend_lines(engine, ledgers, state)


def worst_table(
    engine: Engine,
    listing: GroupListing,
    slo_key: str,
    firing: alerts.Alerts,
    state: ViewState,
    table_id: str,
) -> Markup:
    query = state.carried()
    sparks = group_trends(engine, {slo_key: listing}, state)
    return slo_table(
        listing.reports,
        sparks,
        firing,
        query,
        table_id,
        rows=lambda report: group_row(
            report, slo_key, listing, firing, query, sparks.get(report.key)
        ),
    )


def hint(listing: GroupListing) -> Markup:
    """`2 groups, worst: region=us-east` (and the groups counted in "other")."""
    if not listing.reports:
        text = "no groups yet"
        worst = ""
    else:
        text = f"{fmt.counted(listing.total, 'group')}, worst: "
        worst = group_name(group_labels(listing.reports[0], listing.group_by))
    overflow = listing.overflow.count
    extra = f" · {overflow} more counted in other" if overflow else ""
    return element(
        "div",
        text,
        element("b", worst) if worst else None,
        extra,
        class_="small group-hint",
        data_total=listing.total,
        data_worst=worst,
        data_overflow=overflow,
    )


def _more(listing: GroupListing, slo_key: str, query: str) -> Markup | None:
    hidden = listing.total - len(listing.reports)
    if hidden <= 0:
        return None
    link = element(
        "a",
        f"{fmt.counted(hidden, 'more group')} on the SLO's page",
        href=f"/slo/{slo_key}{query}",
        data_nav=True,
    )
    cell = element("td", link, colspan=len(HEADERS), class_="group-more-cell small")
    return element("tr", cell, class_="group-more", data_key=slo_key)


def overview_rows(
    engine: Engine,
    reports: Sequence[SLOReport],
    sparks: dict[str, Sparkline],
    firing: alerts.Alerts,
    state: ViewState,
) -> Callable[[SLOReport], Markup]:
    """How the overview draws each SLO: a grouped one with its hint, and its worst groups
    beneath it when the groups are expanded."""
    query = state.carried()
    expanded = state.groups == "expanded"
    limit = WORST_ON_OVERVIEW if expanded else 1
    worst = group_views.worst_groups(engine, [report.key for report in reports], limit)
    group_sparks = group_trends(engine, worst, state) if expanded else {}

    def draw(report: SLOReport) -> Markup:
        spark = sparks.get(report.key)
        listing = worst.get(report.key)
        if listing is None:
            return row(report, spark, firing, query)
        parent = row(report, spark, firing, query, note=hint(listing), classes=" grouped-slo")
        if not expanded:
            return parent
        children = [
            group_row(
                child,
                report.key,
                listing,
                firing,
                query,
                group_sparks.get(child.key),
                " group-row nested",
            )
            for child in listing.reports
        ]
        return join([parent, *children, _more(listing, report.key, query)])

    return draw


def toggle(engine: Engine, state: ViewState) -> html.Label | None:
    """The overview's control for grouped SLOs, when any is loaded."""
    if not any(definition.spec.group_by for definition in engine.definitions.slos):
        return None
    return field(
        "Groups",
        dcc.RadioItems(
            id=control_id("groups"),
            options=[
                {"label": "collapsed", "value": "collapsed"},
                {"label": "worst expanded", "value": "expanded"},
            ],
            value=state.groups,
            inline=True,
            className="segmented",
        ),
    )
