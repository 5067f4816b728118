"""Mount the Dash app under the FastAPI app through a2wsgi (Dash is a WSGI/Flask app)."""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Scope

from app.web.access import ReadGate
from app.web.dashboard import create_dash
from app.web.process import DashboardState

API_PREFIX = "/api"
# The app's own JSON paths outside /api/: a wrong method there is a JSON 405 too.
SERVICE_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})


class DashboardMount(Mount):
    """The catch-all `/` mount, minus the API's paths: an API path no route knows answers the
    API's JSON 404, and a known one asked with another method its JSON 405, never a page."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if path in SERVICE_PATHS or path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return Match.NONE, {}
        return super().matches(scope)


def mount_dashboards(app: FastAPI) -> None:
    def state() -> DashboardState:
        current: DashboardState = app.state.faultline
        return current

    dash_app = create_dash(state)
    # a2wsgi types its ASGI side more narrowly than Starlette does.
    pages: ASGIApp = WSGIMiddleware(dash_app.server)  # type: ignore[assignment]
    # Mounted last: API routes, /docs and /metrics are matched before the catch-all "/".
    app.router.routes.append(DashboardMount("/", app=ReadGate(pages, lambda: state().settings)))
