"""The Dash application (placeholder overview until the dashboards land)."""

from __future__ import annotations

from collections.abc import Callable

from dash import Dash, dash_table, html

from app.api.state import AppState
from app.store import status


def create_dash(state: Callable[[], AppState]) -> Dash:
    dash_app = Dash(__name__, title="Faultline", update_title=None)

    def layout() -> html.Div:
        engine = state().engine
        with engine.store.read() as connection:
            rows = status.status_rows(connection)
        return html.Div(
            [
                html.H1("Faultline"),
                dash_table.DataTable(
                    data=[
                        {
                            "slo": row.key,
                            "status": row.status,
                            "policy": row.policy,
                            "remaining": f"{row.remaining:.1%}",
                        }
                        for row in rows
                    ],
                    columns=[
                        {"name": name, "id": name}
                        for name in ("slo", "status", "policy", "remaining")
                    ],
                ),
            ]
        )

    dash_app.layout = layout
    return dash_app
