"""Mount the Dash app under the FastAPI app through a2wsgi (Dash is a WSGI/Flask app)."""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI

from app.api.state import AppState
from app.web.dashboard import create_dash


def mount_dashboards(app: FastAPI) -> None:
    def state() -> AppState:
        current: AppState = app.state.faultline
        return current

    dash_app = create_dash(state)
    # Mounted last: API routes, /docs and /metrics are matched before the catch-all "/".
    app.mount("/", WSGIMiddleware(dash_app.server))  # type: ignore[arg-type]
