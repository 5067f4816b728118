"""The Dash application: a shell, a router, three server callbacks and a few in the browser.

Everything a page shows is drawn from the URL (path and query string) on the server, so a link
reproduces the view. Controls never draw anything themselves: one callback writes their values
into the query string, and the change of URL redraws the page. The theme (light, dark or the
system's) is chosen in the browser and the figures are drawn to match it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from app.engine.cluster import cluster
from app.store.errors import StoreError
from app.web import components as ui
from app.web import urlstate
from app.web.markup import RAW_HTML_JS
from app.web.pages import (
    Context,
    Page,
    alerting,
    boards,
    failure_modes,
    operations,
    overview,
    slo_detail,
)
from app.web.process import DashboardState
from app.web.theme import theme_named

log = logging.getLogger(__name__)

NAV = (
    ("SLOs", "/"),
    ("Failure modes", "/failure-modes"),
    ("Alerts", "/alerts"),
    ("Boards", "/boards"),
)

THEME_JS = """
function(choice) {
    const wanted = choice || "auto";
    const query = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");
    const name = wanted === "dark" || (wanted === "auto" && query && query.matches)
        ? "dark" : "light";
    document.documentElement.dataset.theme = name;
    return [name, "Theme: " + wanted];
}
"""
TOGGLE_JS = """
function(clicks, choice) {
    const order = ["auto", "dark", "light"];
    return order[(order.indexOf(choice || "auto") + 1) % order.length];
}
"""
TITLE_JS = """
function(title) {
    document.title = title ? title + " · Faultline" : "Faultline";
    return "";
}
"""


def shell() -> html.Div:
    """The page frame; the router fills `page`."""
    return html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            dcc.Store(id="theme-choice", storage_type="local", data="auto"),
            dcc.Store(id="theme", data="light"),
            dcc.Store(id="title-sink"),
            dcc.Interval(id="refresh-timer", interval=60_000, disabled=True),
            html.Header(
                [
                    html.A("Faultline", href="/", className="brand"),
                    html.Nav(id="nav", className="nav"),
                    html.Button(
                        "Theme: auto", id="theme-toggle", n_clicks=0, className="theme-toggle"
                    ),
                ],
                className="topbar",
            ),
            html.Main(
                [
                    html.H1(id="page-title"),
                    html.Div(html.P("Loading…", className="muted"), id="page"),
                ],
                className="main",
            ),
            html.Footer(id="cluster-footer", className="cluster-footer"),
        ],
        id="app-root",
    )


# Pages whose path is fixed, by path.
FIXED_PAGES: dict[str, Callable[[Context], Page]] = {
    "": overview.render,
    "failure-modes": failure_modes.render,
    "alerts": alerting.render,
    "boards": boards.render_index,
    "operations": operations.render,
}


def route(pathname: str, context: Context) -> Page:
    parts = [unquote(part) for part in pathname.strip("/").split("/") if part]
    fixed = FIXED_PAGES.get("/".join(parts)) if len(parts) <= 1 else None
    if fixed is not None:
        return fixed(context)
    if parts[0] == "slo" and len(parts) == 3:
        return slo_detail.render(context, parts[1], parts[2])
    if parts[0] == "boards" and len(parts) == 2:
        return boards.render_board(context, parts[1])
    return Page(
        "Not found",
        [ui.notice(f"No page at {pathname}.", "bad", id="not-found"), ui.link("All SLOs", "/")],
    )


def nav(pathname: str, state: urlstate.ViewState) -> list[Any]:
    """Links that keep the range and refresh, so moving between pages keeps the context."""
    query = state.carried()
    section = "/" + pathname.strip("/").split("/")[0] if pathname.strip("/") else "/"
    active = {"/slo": "/", "/boards": "/boards"}.get(section, section)
    return [
        dcc.Link(
            text,
            href=href + query,
            className="active" if href == active else "",
            id=f"nav-{href.strip('/') or 'slos'}",
        )
        for text, href in NAV
    ]


def create_dash(state: Callable[[], DashboardState]) -> Dash:
    dash_app = Dash(
        __name__,
        title="Faultline",
        update_title=None,
        suppress_callback_exceptions=True,  # page controls exist only on their pages
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    dash_app.layout = shell
    _browser_callbacks(dash_app)
    render = _renderer(state)

    # Registered by call rather than as decorators: Dash is untyped, and this keeps mypy strict.
    dash_app.callback(
        Output("page", "children"),
        Output("page-title", "children"),
        Output("nav", "children"),
        Output("cluster-footer", "children"),
        Input("url", "pathname"),
        Input("url", "search"),
        Input("refresh-timer", "n_intervals"),
        Input("theme", "data"),
    )(render)
    dash_app.callback(
        Output("url", "search"),
        Input({"control": ALL}, "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )(controls_to_url)
    dash_app.callback(
        Output("refresh-timer", "interval"),
        Output("refresh-timer", "disabled"),
        Input("url", "search"),
    )(refresh_timer)
    return dash_app


def _browser_callbacks(dash_app: Dash) -> None:
    """Callbacks that run in the browser: theme, its toggle, the title, raw HTML blocks."""
    dash_app.clientside_callback(
        THEME_JS,
        Output("theme", "data"),
        Output("theme-toggle", "children"),
        Input("theme-choice", "data"),
    )
    dash_app.clientside_callback(
        TOGGLE_JS,
        Output("theme-choice", "data"),
        Input("theme-toggle", "n_clicks"),
        State("theme-choice", "data"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        TITLE_JS, Output("title-sink", "data"), Input("page-title", "children")
    )
    dash_app.clientside_callback(
        RAW_HTML_JS,
        Output({"raw-host": ALL}, "className"),  # never set: the callback fills the elements
        Input({"raw-html": ALL}, "data"),
        State({"raw-html": ALL}, "id"),
    )


def _renderer(
    state: Callable[[], DashboardState],
) -> Callable[[str | None, str | None, int | None, str | None], tuple[Any, str, Any, Any]]:
    """The page callback: draws the page the URL names from the process state."""

    def render(
        pathname: str | None, search: str | None, _ticks: int | None, theme: str | None
    ) -> tuple[Any, str, Any, Any]:
        path = pathname or "/"
        view = urlstate.parse(search)
        app_state = state()
        settings = app_state.settings
        context = Context(
            app_state.engine, view, theme_named(theme), settings.dashboards, settings.base_url
        )
        try:
            page = route(path, context)
            membership = operations.footer(cluster(app_state.engine))
        except StoreError as error:
            membership = None
            log.warning("dashboard %s: store unavailable: %s", path, error)
            page = Page(
                "Unavailable",
                [
                    ui.notice(
                        "The ledger store does not answer; try again shortly.",
                        "bad",
                        id="store-error",
                    )
                ],
            )
        return (
            html.Div(
                page.body, className="page", **{"data-path": path, "data-query": search or ""}
            ),
            page.title,
            nav(path, view),
            membership,
        )

    return render


def controls_to_url(values: list[Any], search: str | None) -> Any:
    names = [item["id"]["control"] for item in ctx.inputs_list[0]]
    current = urlstate.parse(search)
    query = urlstate.with_controls(current, dict(zip(names, values, strict=True))).query()
    return no_update if query == (search or "") else query


def refresh_timer(search: str | None) -> tuple[int, bool]:
    seconds = urlstate.parse(search).refresh_seconds
    return max(seconds, 1) * 1000, seconds == 0
