"""The grouped parts of the SLO page: a grouped SLO's worst groups (budget left, consumed,
burn rates, top spender, alerts, a link to each group's page) with the groups counted in
"other"; on a group's page, the SLO it belongs to and which failure modes are its own."""

from __future__ import annotations

from typing import Any

from dash import html

from app.engine import group_views
from app.engine.group_views import GroupListing
from app.slo.definitions import SLODefinition
from app.slo.groups import GroupDefinition, ModeScope, mode_scopes
from app.slo.spec import slo_key
from app.web import alerts
from app.web import components as ui
from app.web import format as fmt
from app.web.controls import search_field
from app.web.group_links import group_name, is_other
from app.web.group_rows import WORST_ON_PAGE, worst_table
from app.web.markup import raw_html
from app.web.pages import Context, slo_replay
from app.web.slo_data import SLOPageData
from app.web.urlstate import ViewState

OVERFLOW_NAMED = 5


def title(definition: SLODefinition) -> str:
    base = f"{definition.service} / {definition.name}"
    if isinstance(definition, GroupDefinition):
        return f"{base} · {group_name(definition.group)}"
    return base


def _scopes(definition: SLODefinition) -> html.P | None:
    scopes = mode_scopes(definition.spec)
    if not scopes:
        return None
    words = {ModeScope.GROUP: "this group's own", ModeScope.GLOBAL: "global (every group)"}
    return html.P(
        "Failure modes: "
        + "; ".join(f"{name}: {words[scope]}" for name, scope in scopes.items())
        + ".",
        className="muted small",
        id="group-scopes",
    )


def crumb(ctx: Context, data: SLOPageData) -> html.Div | None:
    """On a group's page: the group, and a link back to its SLO (the SLO level, every group)."""
    definition = data.definition
    if not isinstance(definition, GroupDefinition):
        return None
    key = slo_key(definition.service, definition.name)
    name = group_name(definition.group)
    what = "the groups beyond max_groups, counted together" if is_other(definition.group) else None
    return html.Div(
        [
            html.P(
                [
                    "Group ",
                    html.B(name),
                    f" ({what})" if what else None,
                    " of ",
                    ui.link(key, f"/slo/{key}{ctx.state.carried()}", id="group-parent"),
                    ": its own budget, burn rates, attribution and alerts.",
                ]
            ),
            _scopes(definition),
        ],
        id="group-crumb",
        className="group-crumb",
        **{"data-group": name, "data-slo": key},
    )


def _overflow(listing: GroupListing) -> html.Div | None:
    overflow = listing.overflow
    if not overflow.count:
        return None
    named = ", ".join(group_name(labels) for labels in overflow.groups[:OVERFLOW_NAMED])
    more = "…" if overflow.count > OVERFLOW_NAMED else ""
    return ui.notice(
        f"{fmt.counted(overflow.count, 'group')} counted in other "
        f"(beyond max_groups: {listing.max_groups}): {named}{more}",
        "info",
        id="groups-overflow",
        **{"data-count": overflow.count},
    )


def _offset(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _browse(key: str, state: ViewState, offset: int, listing: GroupListing) -> html.Div:
    """A search box over the groups, and links to the previous and next page of them."""
    shown = len(listing.reports)
    span = f"{offset + 1}–{offset + shown} of {listing.total}" if shown else f"0 of {listing.total}"

    def page(text: str, to: int, element_id: str) -> Any:
        return ui.link(
            text, f"/slo/{key}{state.query(group_offset=str(to) if to else '')}", id=element_id
        )

    return html.Div(
        [
            search_field("Search groups", "group_search", state.group_search, "us-east"),
            html.Span(f"Groups {span}", className="muted", id="groups-span"),
            page("← previous", max(0, offset - WORST_ON_PAGE), "groups-previous")
            if offset
            else None,
            page("next →", offset + WORST_ON_PAGE, "groups-next")
            if offset + shown < listing.total
            else None,
        ],
        className="group-browse",
    )


def worst(ctx: Context, data: SLOPageData) -> html.Section | None:
    """On a grouped SLO's page: its groups with the least budget left (or those matching the
    page's group search), 10 at a time."""
    definition = data.definition
    if isinstance(definition, GroupDefinition) or not definition.spec.group_by:
        return None
    state, key = ctx.state, definition.key
    search = state.group_search or None
    offset = _offset(state.group_offset)
    try:
        listing = group_views.list_groups(
            ctx.engine, key, search=search, limit=WORST_ON_PAGE, offset=offset
        )
        if offset and not listing.reports:  # past the end (a new search): its first page
            offset = 0
            listing = group_views.list_groups(ctx.engine, key, search=search, limit=WORST_ON_PAGE)
    except KeyError:
        return None
    matching = f" matching {search!r}" if search else ""
    note = (
        f"{listing.total} groups by {', '.join(listing.group_by)}{matching}, each with its own "
        "budget, least budget left first, their figures over the period. Open a group for its "
        "charts and attribution."
    )
    firing = alerts.firing(ctx.engine)
    table = (
        raw_html(
            worst_table(ctx.engine, listing, key, firing, state, "group-table"),
            "worst-groups",
            className="table-wrap",
        )
        if listing.reports
        else ui.notice(
            "No group matches." if search else "No group has data yet.", "muted", id="groups-empty"
        )
    )
    return ui.section(
        "Worst groups" if not (search or offset) else "Groups",
        _overflow(listing),
        _browse(key, state, offset, listing),
        table,
        note=note,
        id="worst-groups",
        **{"data-total": str(listing.total), "data-offset": str(offset)},
    )


def replay(ctx: Context, data: SLOPageData) -> list[Any]:
    """The Replay panel; on a group's page, a pointer to its SLO's (replay is per SLO)."""
    definition = data.definition
    if not isinstance(definition, GroupDefinition):
        return slo_replay.panel(data, ctx.state)
    key = slo_key(definition.service, definition.name)
    return [
        html.P(
            [
                "Replay covers whole SLOs, not one group yet: ",
                ui.link("replay on the SLO's page", f"/slo/{key}{ctx.state.carried()}#replay"),
                ".",
            ],
            className="muted",
            id="replay-group",
        )
    ]
