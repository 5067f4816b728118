"""The read facade of the API and the dashboards: listings, ledger history, burn-rate series,
alerts, backfill jobs and status snapshots.

Both surfaces read the ledger only through these functions (and `spend`, `corrections`), so a
page and a JSON answer for the same query show the same numbers and neither opens the store
itself. Everything here reads the store; nothing queries Prometheus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

from app.alerting import history as alert_history
from app.alerting import views as alert_views
from app.engine.service import Engine
from app.engine.view_models import History, HistoryPoint
from app.slo.budget import burn_rate, consumed_by, sli_value
from app.slo.definitions import SLODefinition
from app.slo.ledger import WindowTotals
from app.slo.report import SLOReport, rfc3339
from app.slo.windows import Window, align_down, align_up
from app.store import bucket_reads, history, jobs, registry, status
from app.store.jobs import Job
from app.store.registry import StoredSLO
from app.store.status import ListingOrder, ListingQuery

SortKey = ListingOrder
# The registry row of a loaded SLO (its ledger's owner) and a backfill job, as readers see them.
RegisteredSLO = StoredSLO
BackfillJob = Job
FiringAlert = alert_views.FiringAlert
AlertEvent = alert_views.AlertEvent


class FilterError(ValueError):
    """A filter that cannot be understood; the message says what is expected."""


def parse_label(text: str) -> tuple[str, str]:
    """`team:payments` → ("team", "payments")."""
    name, separator, value = text.partition(":")
    if not separator or not name:
        raise FilterError(f"label filter {text!r} is not NAME:VALUE")
    return name, value


@dataclass(frozen=True)
class SLOFilter:
    """Which SLOs a listing keeps; empty criteria keep everything."""

    services: Sequence[str] = ()
    labels: Sequence[tuple[str, str]] = ()  # all must match
    policies: Sequence[str] = ()
    statuses: Sequence[str] = ()
    search: str | None = None  # case-insensitive substring of the key

    def selects(self, definition: SLODefinition) -> bool:
        return (
            (not self.services or definition.service in self.services)
            and all(definition.labels.get(name) == value for name, value in self.labels)
            and (not self.search or self.search.lower() in definition.key.lower())
        )


@dataclass(frozen=True)
class Listing:
    reports: list[SLOReport]  # the requested page, in order
    total: int  # SLOs matching the filter, on all pages


def list_slos(
    engine: Engine,
    selection: SLOFilter,
    sort: SortKey = "remaining",
    order: Literal["asc", "desc"] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Listing:
    """Current status snapshots of the matching SLOs: worst budget first unless told otherwise.

    Burn rate sorts by the 1h window, fastest first; a missing rate sorts as the slowest.
    """
    loaded = engine.definitions.slos
    selected = [d.key for d in loaded if selection.selects(d)]
    query = ListingQuery(
        # Every loaded SLO selected: no key list (1,000 bound keys cost more than the query);
        # the registry's active SLOs are the loaded ones, as each sync deactivates the rest.
        keys=None if len(selected) == len(loaded) else selected,
        policies=selection.policies,
        states=selection.statuses,
        order=sort,
        descending=(order or ("desc" if sort == "burn_rate" else "asc")) == "desc",
        limit=limit,
        offset=offset,
    )
    with engine.store.read() as connection:
        total, documents = status.listing(connection, query)
    return Listing([SLOReport.model_validate_json(document) for document in documents], total)


def lookup(engine: Engine, key: str) -> tuple[SLODefinition, RegisteredSLO] | None:
    """The loaded definition and the stored row of `key`, or None if either is missing."""
    definition = engine.definitions.get(key)
    with engine.store.read() as connection:
        stored = registry.get_slo(connection, key)
    if definition is None or stored is None:
        return None
    return definition, stored


def firing_alerts(engine: Engine) -> list[FiringAlert]:
    """Every firing alert of an active SLO, oldest first."""
    with engine.store.read() as connection:
        return alert_views.firing_alerts(connection)


def alert_timeline(engine: Engine, key: str, start: int, end: int) -> list[AlertEvent]:
    """Transitions of one SLO's alerts with `start < t <= end`, in order."""
    with engine.store.read() as connection:
        return alert_views.alert_timeline(connection, key, start, end)


AlertRecord = alert_history.AlertRecord
DeliveryState = alert_history.DeliveryState


def recent_alerts(engine: Engine, start: int, end: int, limit: int = 200) -> list[AlertRecord]:
    """Alert transitions of every active SLO with `start < t <= end`, newest first, with the
    delivery state of their notifications."""
    with engine.store.read() as connection:
        return alert_history.recent_alerts(connection, start, end, limit)


def firing_with_deliveries(engine: Engine) -> list[AlertRecord]:
    """Every firing alert of an active SLO, oldest first, with its notifications' delivery."""
    with engine.store.read() as connection:
        return alert_history.firing_alerts(connection)


def recent_jobs(engine: Engine) -> list[BackfillJob]:
    """The latest backfill jobs, newest first."""
    with engine.store.read() as connection:
        return jobs.recent_jobs(connection)


def status_reports(engine: Engine) -> dict[str, str]:
    """Report JSON of the stored status snapshot of every loaded SLO that has one."""
    with engine.store.read() as connection:
        return status.reports(connection, engine.definitions.keys())


def history_of(
    engine: Engine, definition: SLODefinition, stored: RegisteredSLO, window: Window, step: int
) -> History:
    """The ledger of one SLO in buckets of `step` seconds over `window`."""
    budget = definition.spec.budget
    with engine.store.read() as connection:
        series = history.buckets(connection, stored.id, window, step)
    # Consumption is relative to the whole range's events; only counts are summed here
    # (adding full totals would merge every bucket's per-mode maps twice).
    whole = WindowTotals(total=sum(totals.total for _, totals in series))
    points = []
    running_total = running_bad = 0.0
    running_slices = 0
    for end_t, totals in series:
        running_total += totals.total
        running_bad += totals.bad
        running_slices += totals.slices
        running = WindowTotals(total=running_total, bad=running_bad, slices=running_slices)
        cumulative = burn_rate(running, budget) or 0.0
        points.append(
            HistoryPoint(
                t=rfc3339(end_t),
                total=totals.total,
                bad=totals.bad,
                sli=sli_value(totals),
                burn_rate=burn_rate(totals, budget),
                consumed={
                    mode.name: consumed_by(totals.credited.get(mode.name, 0.0), whole, budget)
                    for mode in definition.spec.failure_modes
                },
                unattributed=consumed_by(totals.unattributed, whole, budget),
                no_data_slices=totals.no_data_slices,
                cumulative_consumed=cumulative,
                cumulative_remaining=1.0 - cumulative,
            )
        )
    return History(
        service=definition.service,
        slo=definition.name,
        start=rfc3339(window.start),
        end=rfc3339(window.end),
        resolution_seconds=step,
        objective=definition.spec.objective,
        points=points,
    )


def burndown(history: History) -> list[float]:
    """Budget left after each point, as a share of the whole range's budget.

    Unlike `cumulative_remaining` (a ratio of the events so far), this falls by exactly what each
    bucket spent, so a steady burn is a straight line and can be read against the ideal one.
    """
    points = history.points
    return burndown_of(
        [point.total for point in points], [point.bad for point in points], history.objective
    )


def burndown_of(totals: Sequence[float], bads: Sequence[float], objective: float) -> list[float]:
    budget = 1.0 - objective / 100.0
    allowed = sum(totals) * budget
    if allowed <= 0:
        return [1.0 for _ in totals]
    remaining, spent = [], 0.0
    for bad in bads:
        spent += bad
        remaining.append(1.0 - spent / allowed)
    return remaining


@dataclass(frozen=True)
class TrendRequest:
    stored: RegisteredSLO
    window: Window  # whole hours
    step: int  # a multiple of an hour


def hourly_trends(
    engine: Engine, requests: Mapping[str, TrendRequest]
) -> dict[str, tuple[list[float], list[float]]]:
    """(totals, bads) per bucket for many SLOs, from the hourly rollups, summed in SQL.

    The buckets of `history_of` for the same window and step, at a fraction of the cost: one
    query per distinct (window, step), usually one for a whole page. Sums agree with
    `history_of` to rounding (SQL adds in its own order).
    """
    batches: dict[tuple[Window, int], dict[int, str]] = {}
    for key, request in requests.items():
        batches.setdefault((request.window, request.step), {})[request.stored.id] = key
    out: dict[str, tuple[list[float], list[float]]] = {}
    with engine.store.read() as connection:
        for (window, step), keys in batches.items():
            found = history.hourly_bucket_sums(connection, sorted(keys), window, step)
            for slo_id, rows in found.items():
                out[keys[slo_id]] = ([row[1] for row in rows], [row[2] for row in rows])
    return out


@dataclass(frozen=True)
class BurnSeries:
    """The burn rate over a trailing `window_seconds`, at the end of every bucket of a range."""

    label: str
    window_seconds: int
    times: list[int]
    rates: list[float | None]


def burn_rate_series(
    engine: Engine,
    definition: SLODefinition,
    stored: RegisteredSLO,
    window: Window,
    step: int,
    windows: Sequence[tuple[str, int]],
) -> list[BurnSeries]:
    """Trailing-window burn rates at each bucket end of `window`.

    Only windows that are whole multiples of `step` can be summed from buckets; others are left
    out (a caller wanting a 5m line over 30 days must narrow the range).
    """
    usable = [(label, seconds) for label, seconds in windows if seconds % step == 0]
    if not usable:
        return []
    longest = max(seconds for _, seconds in usable)
    first, last = align_up(window.start + 1, step), align_down(window.end, step)
    lookback = Window(first - longest, last)
    with engine.store.read() as connection:
        rows = bucket_reads.bucket_totals(connection, stored.id, lookback, step)
    # Dense prefix sums over every bucket since the lookback start: each trailing window is then
    # one subtraction, whatever its length.
    index = {end: (total, bad, count) for end, total, bad, count in rows}
    ends = range(lookback.start + step, last + 1, step)
    totals = [0.0, *accumulate(index.get(end, (0.0, 0.0, 0))[0] for end in ends)]
    bads = [0.0, *accumulate(index.get(end, (0.0, 0.0, 0))[1] for end in ends)]
    counts = [0, *accumulate(index.get(end, (0.0, 0.0, 0))[2] for end in ends)]
    budget = definition.spec.budget
    times = list(range(first, last + 1, step))
    out = []
    for label, seconds in usable:
        width = seconds // step
        rates = []
        for t in times:
            i = (t - lookback.start) // step  # buckets (lookback.start, t] are prefix[1..i]
            trailing = WindowTotals(
                total=totals[i] - totals[i - width],
                bad=bads[i] - bads[i - width],
                slices=counts[i] - counts[i - width],
            )
            rates.append(burn_rate(trailing, budget))
        out.append(BurnSeries(label, seconds, times, rates))
    return out
