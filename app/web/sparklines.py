"""Remaining-budget sparklines for lists of SLOs, cheap enough for hundreds of rows.

Each line is the burn-down of `GET /api/v1/slos/{key}/history?start=…&end=…&resolution=…` for the
page's range with an hourly (or coarser) resolution: the same buckets and sums, read for every SLO
of the page in one query of the hourly rollups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.engine import views
from app.engine.ranges import RangeError, nice_step, resolve_range
from app.engine.service import Engine
from app.slo.definitions import SLODefinition
from app.slo.durations import format_duration
from app.web.urlstate import ViewState

SPARK_POINTS = 60
HOUR = 3600


@dataclass(frozen=True)
class Sparkline:
    values: list[float]
    resolution: str  # as the API's `resolution` parameter takes it


def resolution_for(seconds: int) -> int:
    """About `SPARK_POINTS` buckets of whole hours (the rollups' grain)."""
    return nice_step(seconds, SPARK_POINTS, HOUR)


def sparklines(engine: Engine, keys: Sequence[str], state: ViewState) -> dict[str, Sparkline]:
    """Burn-down lines of `keys` over the page's range (each SLO's own period by default)."""
    stored = engine.stored_slos()
    loaded = {definition.key: definition for definition in engine.definitions.slos}
    return trend_lines(
        engine,
        {key: (loaded[key], stored[key]) for key in keys if key in loaded and key in stored},
        state,
    )


def trend_lines(
    engine: Engine,
    ledgers: Mapping[str, tuple[SLODefinition, views.RegisteredSLO]],
    state: ViewState,
) -> dict[str, Sparkline]:
    """Burn-down lines of these ledgers (an SLO's or a group's: key → definition, stored row)."""
    start, end = state.range_params()
    now = engine.clock()
    requests: dict[str, views.TrendRequest] = {}
    resolutions: dict[str, str] = {}
    for key, (definition, stored) in ledgers.items():
        try:
            window, _ = resolve_range(start, end, now, definition=definition)
            step = format_duration(resolution_for(window.seconds))
            window, seconds = resolve_range(start, end, now, definition=definition, resolution=step)
        except RangeError:
            continue  # the page reports a bad range once, above the table
        if seconds % HOUR:
            continue  # a slice length that is not a divisor of an hour: no rollup-aligned line
        requests[key] = views.TrendRequest(stored, window, seconds)
        resolutions[key] = step
    trends = views.hourly_trends(engine, requests)
    out = {}
    for key, (totals, bads) in trends.items():
        values = views.burndown_of(totals, bads, ledgers[key][0].spec.objective)
        out[key] = Sparkline(values, resolutions[key])
    return out
