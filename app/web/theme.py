"""Colours for light and dark pages, and a Plotly layout to match each.

Figures are built on the server for the theme the browser asked for, so text and grid lines keep
their contrast in both; the page colours themselves live in `assets/faultline.css`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNATTRIBUTED = "#9ca3af"  # grey in both themes: "nobody named this cause yet"
# Twelve colours no two of which are alike (CIE76 distance at least 25; orange beside amber and
# indigo beside violet were not), so the failure modes page tells a dozen SLOs apart.
MODE_COLOURS = (
    "#2563eb",
    "#d97706",
    "#059669",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#92400e",
    "#1e3a8a",
    "#c026d3",
    "#facc15",
)
WINDOW_COLOURS = {
    "5m": "#a855f7",
    "30m": "#8b5cf6",
    "1h": "#ef4444",
    "2h": "#f97316",
    "6h": "#f59e0b",
    "1d": "#10b981",
    "3d": "#3b82f6",
}


@dataclass(frozen=True)
class Theme:
    name: str
    text: str
    muted: str
    grid: str
    ideal: str


LIGHT = Theme("light", text="#1f2937", muted="#6b7280", grid="#e5e7eb", ideal="#6b7280")
DARK = Theme("dark", text="#e5e7eb", muted="#9ca3af", grid="#374151", ideal="#9ca3af")


def theme_named(name: str | None) -> Theme:
    return DARK if name == "dark" else LIGHT


def mode_colours(names: list[str]) -> dict[str, str]:
    """A stable colour per failure mode name within one page."""
    return {name: MODE_COLOURS[i % len(MODE_COLOURS)] for i, name in enumerate(sorted(names))}


def layout(theme: Theme, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": theme.text, "size": 12},
        "margin": {"l": 48, "r": 12, "t": 30, "b": 30},
        "height": 280,
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 0,
            "bgcolor": "rgba(0,0,0,0)",
        },
        "hovermode": "x unified",
        "xaxis": {"gridcolor": theme.grid, "zerolinecolor": theme.grid, "type": "date"},
        "yaxis": {"gridcolor": theme.grid, "zerolinecolor": theme.grid},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base
