"""Boards from `dashboards/*.yaml`: a title and label selectors choose SLOs and group them."""

from __future__ import annotations

from typing import Any

from dash import html

from app.engine import views
from app.slo.boards import Board, group_name, group_order
from app.slo.report import SLOReport
from app.web import alerts, controls
from app.web import components as ui
from app.web import format as fmt
from app.web.boardfiles import load_boards
from app.web.markup import raw_html
from app.web.pages import Context, Page
from app.web.slo_table import slo_table
from app.web.sparklines import sparklines


def _board_card(board: Board, count: int, query: str) -> html.Article:
    return html.Article(
        [
            html.H2(ui.link(board.spec.title, f"/boards/{board.name}{query}")),
            html.P(board.spec.description, className="muted") if board.spec.description else None,
            html.P(
                f"{fmt.counted(count, 'SLO')}, grouped by {board.spec.group_by}", className="small"
            ),
        ],
        className="card board-card",
        id=f"board-{board.name}",
        **{"data-count": count},
    )


def render_index(ctx: Context) -> Page:
    loaded = load_boards(ctx.boards_dir)
    query = ctx.state.carried()
    slos = ctx.engine.definitions.slos
    body: list[Any] = [ui.notice(str(problem), "bad") for problem in loaded.problems]
    if not loaded.boards:
        body.append(
            ui.notice(
                f"No boards in {ctx.boards_dir}/ (write one YAML file per board).",
                "muted",
                id="no-boards",
            )
        )
    body.append(
        html.Div(
            [_board_card(b, len(b.select(slos)), query) for b in loaded.boards],
            className="board-grid",
        )
    )
    return Page("Boards", body)


def render_board(ctx: Context, name: str) -> Page:
    loaded = load_boards(ctx.boards_dir)
    board = next((b for b in loaded.boards if b.name == name), None)
    if board is None:
        return Page(
            "Unknown board",
            [
                ui.notice(f"No board {name!r} in {ctx.boards_dir}/.", "bad", id="not-found"),
                ui.link("All boards", "/boards"),
            ],
        )
    engine, state = ctx.engine, ctx.state
    chosen = {d.key: d for d in board.select(engine.definitions.slos)}
    listing = views.list_slos(engine, views.SLOFilter(), sort=state.sort_key)
    reports = [report for report in listing.reports if report.key in chosen]
    groups: dict[str, list[SLOReport]] = {}
    for report in reports:
        groups.setdefault(
            group_name(board.spec.group_by, chosen[report.key], report.policy), []
        ).append(report)
    firing = alerts.firing(engine)
    sparks = sparklines(engine, [report.key for report in reports], state)
    query = state.carried()
    body: list[Any] = [
        controls.bar(
            controls.sort_picker(state),
            controls.range_picker(state),
            controls.refresh_picker(state),
        ),
        html.P(board.spec.description, className="lead") if board.spec.description else None,
    ]
    if not groups:
        body.append(
            ui.notice(
                "This board selects no SLO that has been evaluated.", "muted", id="board-empty"
            )
        )
    for group in sorted(groups, key=lambda name: group_order(board.spec.group_by, name)):
        members = groups[group]
        body.append(
            ui.section(
                f"{group} ({len(members)})",
                raw_html(
                    slo_table(members, sparks, firing, query, f"board-table-{ui.slug(group)}"),
                    f"board-{ui.slug(group)}",
                    className="table-wrap",
                ),
                **{"data-group": group},
                classes="card board-group",
            )
        )
    return Page(board.spec.title, body)
