"""The burn dashboards: a Dash app (Plotly figures) mounted at / in the same server."""
