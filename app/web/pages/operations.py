"""Operations: who evaluates this ledger. The leader, the live members with the SLOs each holds
and their lease ages, SLOs nobody holds, and the definitions generation (app.engine.cluster);
the footer of every page sums it up."""

from __future__ import annotations

from typing import Any

from dash import html

from app.engine.cluster import Cluster, Member, cluster
from app.web import components as ui
from app.web.pages import Context, Page


def footer(view: Cluster) -> list[Any]:
    """One line for every page: members, the leader, the definitions generation."""
    lead = view.leader.holder if view.leader is not None else "none"
    if view.mode == "shared":
        who = f"{len(view.members)} evaluating member(s) · leader {lead}"
    else:
        who = f"single evaluator (SQLite): {lead}"
    generation = view.definitions.generation
    parts = [who, f"definitions generation {generation if generation is not None else '–'}"]
    if view.unheld:
        parts.append(f"{len(view.unheld)} SLO(s) unheld")
    return [
        html.Span(" · ".join(parts), id="cluster-summary", **{"data-members": len(view.members)}),
        " — ",
        ui.link("Operations", "/operations", id="operations-link"),
    ]


def _member_row(member: Member, view: Cluster) -> html.Tr:
    marks = [
        *(["leader"] if view.leader is not None and view.leader.holder == member.holder else []),
        *(["this process"] if member.holder == view.this_process else []),
    ]
    return html.Tr(
        [
            html.Td([member.holder, *(f" ({mark})" for mark in marks)], className="holder"),
            html.Td(str(len(member.slos)), className="num held-count"),
            html.Td(f"{member.renewed_ago:.1f}s", className="num"),
            html.Td(f"{member.joined_ago:.0f}s", className="num"),
            html.Td(str(member.definitions_generation or "–"), className="num"),
            html.Td(", ".join(slo.key for slo in member.slos), className="small held-slos"),
        ],
        **{"data-holder": member.holder, "data-held": len(member.slos)},
    )


def _members(view: Cluster) -> html.Section:
    head = ["Process", "SLOs held", "Renewed", "Joined", "Definitions", "SLOs"]
    table = html.Table(
        [
            html.Thead(html.Tr([html.Th(text) for text in head])),
            html.Tbody([_member_row(member, view) for member in view.members]),
        ],
        className="data-table",
        id="members",
    )
    return ui.section(
        "Members",
        html.Div(table, className="table-wrap"),
        note=f"Each renews its leases every {view.lease_seconds / 3:g}s; one silent for "
        f"{view.lease_seconds:g}s is gone and its SLOs are taken over.",
    )


def render(ctx: Context) -> Page:
    view = cluster(ctx.engine)
    lead = view.leader
    body: list[Any] = [
        html.P(footer(view)[0], className="lead"),
        ui.section(
            "Leader",
            html.P(
                f"{lead.holder}, generation {lead.generation}, held {lead.held_for:.0f}s, "
                f"expires in {lead.expires_in:.1f}s"
                if lead is not None
                else "No leader right now: one is elected within one lease period.",
                id="leader",
            ),
            note="Judges alerts, delivers notifications, runs backfills.",
        ),
    ]
    if view.mode == "shared":
        body.append(_members(view))
    if view.unheld:
        body.append(ui.notice(f"Unheld: {', '.join(view.unheld)}", "warn", id="unheld"))
    definitions = view.definitions
    if definitions.superseded or definitions.withheld:
        body.append(
            ui.notice(
                f"This process holds definitions generation {definitions.this_process_generation}"
                f" (current {definitions.generation}); not evaluated here: "
                f"{', '.join(definitions.withheld) or 'none'}",
                "warn",
                id="withheld",
            )
        )
    return Page("Operations", body)
