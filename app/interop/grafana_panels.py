"""Grafana dashboard JSON building blocks: panels, targets, variables (schema version 39).

Plain dicts, so the output is exactly what `json.dumps` writes and a diff shows what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.slo import conventions

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39


@dataclass
class Layout:
    """Places panels left to right on Grafana's 24-column grid, wrapping to new rows."""

    panels: list[dict[str, Any]] = field(default_factory=list)
    x: int = 0
    y: int = 0
    row_height: int = 0
    next_id: int = 1

    def add(self, panel: dict[str, Any], width: int, height: int) -> None:
        if self.x + width > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel["id"] = self.next_id
        panel["gridPos"] = {"h": height, "w": width, "x": self.x, "y": self.y}
        self.next_id += 1
        self.panels.append(panel)
        self.x += width
        self.row_height = max(self.row_height, height)

    def row(self, title: str) -> None:
        """A collapsible section header across the whole width."""
        if self.x:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        self.add({"type": "row", "title": title, "collapsed": False, "panels": []}, 24, 1)
        self.x, self.y, self.row_height = 0, self.y + 1, 0


def target(expr: str, legend: str = "", ref: str = "A", *, instant: bool = False) -> dict[str, Any]:
    return {
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "refId": ref,
        "range": not instant,
        "instant": instant,
    }


def thresholds(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {
        "mode": "absolute",
        "steps": [{"color": colour, "value": value} for value, colour in steps],
    }


BUDGET_THRESHOLDS = thresholds((None, "red"), (0.25, "orange"), (0.5, "green"))


def panel(
    kind: str,
    title: str,
    targets: list[dict[str, Any]],
    *,
    unit: str = "none",
    description: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    steps: dict[str, Any] | None = None,
    custom: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": unit}
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    if steps is not None:
        defaults["thresholds"] = steps
    if custom is not None:
        defaults["custom"] = custom
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options or {},
    }


def timeseries(title: str, targets: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    stacked = kwargs.pop("stacked", False)
    threshold_lines = kwargs.pop("threshold_lines", False)
    custom: dict[str, Any] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10}
    if stacked:
        custom.update({"stacking": {"mode": "normal", "group": "A"}, "fillOpacity": 60})
    if threshold_lines:
        custom["thresholdsStyle"] = {"mode": "dashed"}
    options = {
        "legend": {"displayMode": "list", "placement": "bottom"},
        "tooltip": {"mode": "multi"},
    }
    return panel("timeseries", title, targets, custom=custom, options=options, **kwargs)


def bar_gauge(title: str, targets: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    options = {
        "orientation": "horizontal",
        "displayMode": "gradient",
        "showUnfilled": True,
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    }
    return panel("bargauge", title, targets, options=options, **kwargs)


def stat(title: str, targets: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    options = {
        "colorMode": "background",
        "graphMode": "area",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    }
    return panel("stat", title, targets, options=options, **kwargs)


def table(title: str, targets: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    return panel("table", title, targets, options={"showHeader": True}, **kwargs)


def datasource_variable() -> dict[str, Any]:
    return {
        "type": "datasource",
        "name": "datasource",
        "label": "Prometheus",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    """A multi-value variable of label values; "All" matches any value (`.*`)."""
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-values"},
        "definition": query,
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "hide": 0,
        "options": [],
    }


def dashboard(
    uid: str,
    title: str,
    description: str,
    layout: Layout,
    variables: list[dict[str, Any]],
    tags: list[str],
) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "templating": {"list": variables},
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["faultline"],
                "asDropdown": True,
                "title": "Faultline",
                "includeVars": False,
                "keepTime": True,
            }
        ],
        "panels": layout.panels,
    }


def self_monitoring(layout: Layout) -> None:
    """A row on Faultline's own health: evaluation lag, query latency, errors."""
    layout.row("Faultline itself")
    layout.add(
        timeseries(
            "Evaluation lag",
            [target(f"max({conventions.EVALUATION_LAG})", "lag")],
            unit="s",
            description="Age of the oldest slice that is due but not evaluated; SLOs turn stale "
            "when it passes the stale bound.",
        ),
        8,
        7,
    )
    layout.add(
        timeseries(
            "Prometheus query latency",
            [
                target(
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate({conventions.QUERY_DURATION}_bucket[$__rate_interval])))",
                    "p95",
                )
            ],
            unit="s",
        ),
        8,
        7,
    )
    layout.add(
        timeseries(
            "Errors",
            [
                target(
                    f"sum by (kind) (rate({conventions.QUERY_ERRORS}[$__rate_interval]))",
                    "query {{kind}}",
                    "A",
                ),
                target(f"sum(rate({conventions.STORE_ERRORS}[$__rate_interval]))", "store", "B"),
                target(
                    f"sum(rate({conventions.SLO_EVALUATION_ERRORS}[$__rate_interval]))",
                    "SLO evaluation",
                    "C",
                ),
            ],
            unit="ops",
        ),
        8,
        7,
    )
