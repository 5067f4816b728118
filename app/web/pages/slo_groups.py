"""The grouped parts of the SLO page: a grouped SLO's worst groups (budget left, consumed,
burn rates, top spender, alerts, a link to each group's page) with the groups counted in
"other"; on a group's page, the SLO it belongs to and which failure modes are its own."""

from __future__ import annotations

from typing import Any

from dash import html

from app.engine import group_views
from app.slo.definitions import SLODefinition
from app.slo.groups import GroupDefinition, ModeScope, mode_scopes
from app.slo.spec import slo_key
from app.web import alerts
from app.web import components as ui
from app.web.group_links import group_name, is_other
from app.web.group_rows import WORST_ON_PAGE, worst_table
from app.web.markup import raw_html
from app.web.pages import Context, slo_replay
from app.web.slo_data import SLOPageData

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


def _overflow(listing: group_views.GroupListing) -> html.Div | None:
    overflow = listing.overflow
    if not overflow.count:
        return None
    named = ", ".join(group_name(labels) for labels in overflow.groups[:OVERFLOW_NAMED])
    more = "…" if overflow.count > OVERFLOW_NAMED else ""
    return ui.notice(
        f"{overflow.count} group{'s' if overflow.count != 1 else ''} counted in other "
        f"(beyond max_groups: {listing.max_groups}): {named}{more}",
        "info",
        id="groups-overflow",
        **{"data-count": overflow.count},
    )


def worst(ctx: Context, data: SLOPageData) -> html.Section | None:
    """On a grouped SLO's page: its groups with the least budget left."""
    definition = data.definition
    if isinstance(definition, GroupDefinition) or not definition.spec.group_by:
        return None
    try:
        listing = group_views.list_groups(ctx.engine, definition.key, limit=WORST_ON_PAGE)
    except KeyError:
        return None
    by = ", ".join(listing.group_by)
    shown = len(listing.reports)
    note = (
        f"{listing.total} groups by {by}, each with its own budget; the {shown} with the least "
        "budget left, their figures over the period. Open a group for its charts and attribution."
    )
    table = (
        raw_html(
            worst_table(
                ctx.engine,
                listing,
                definition.key,
                alerts.firing(ctx.engine),
                ctx.state,
                "group-table",
            ),
            "worst-groups",
            className="table-wrap",
        )
        if listing.reports
        else ui.notice("No group has data yet.", "muted", id="groups-empty")
    )
    return ui.section(
        "Worst groups",
        _overflow(listing),
        table,
        note=note,
        id="worst-groups",
        **{"data-total": str(listing.total)},
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
