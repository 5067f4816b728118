"""Status snapshots: each SLO's current report (without incidents), stored for fast listing.

Refreshed for many SLOs at once: one read transaction sums the windows of every SLO whose
windows coincide in a few queries per hundred SLOs, with the whole hours of the period kept
between ticks (`app.store.hour_sums`: a 30-day period is no longer summed again every minute),
and one short write transaction stores the rows. The report is read apart from the write: on
SQLite writers queue on one lock, and summing while holding it made every chunk write wait. A
ledger write by another process in between leaves a snapshot one write behind until the next
tick refreshes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import Connection

from app.engine.grouped import save_group_statuses
from app.engine.reports import Freshness, build_slo_report, report_windows
from app.engine.ticks import TickResult, still_to_refresh
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.ledger import WindowTotals
from app.slo.report import SLOReport
from app.slo.windows import Window
from app.store import ledger, registry, status
from app.store.errors import StoreError
from app.store.hour_sums import HourSums, LedgerMark
from app.store.registry import StoredSLO
from app.store.store import Store

log = logging.getLogger(__name__)

# SLOs whose windows are summed in one set of queries: each range condition repeats the list
# of SLO ids (see `rollup_reads.any_range`), which must stay under SQLite's parameter limit.
GROUP = 100


class Statuses:
    """Writes status snapshots; keeps the whole-hour sums of the SLOs' windows between ticks."""

    def __init__(self, store: Store, freshness: Freshness) -> None:
        self.store = store
        self.freshness = freshness
        self.hours = HourSums()

    def refresh(
        self,
        definitions: DefinitionSet,
        chosen: Sequence[SLODefinition],
        moment: int,
        succeeded: Mapping[str, int] | None = None,
    ) -> None:
        """Store the reports of `chosen` at `moment`; `succeeded`: key → when its evaluation
        last succeeded, recorded with the snapshot (its error cleared)."""
        if not chosen:
            return
        succeeded = succeeded or {}
        try:
            with self.store.snapshot() as connection:
                stored = _stored(connection, [d.key for d in chosen])
                present = [d for d in chosen if d.key in stored]
                wanted = {d.key: _succeeded(stored[d.key], succeeded.get(d.key)) for d in present}
                totals = self._totals(connection, definitions, present, wanted, moment)
                reports = [
                    (
                        wanted[d.key].id,
                        build_slo_report(
                            connection,
                            wanted[d.key],
                            d,
                            definitions,
                            moment,
                            freshness=self.freshness,
                            with_incidents=False,
                            totals=totals[wanted[d.key].id],
                        ),
                    )
                    for d in present
                ]
            done = {wanted[key].id: at for key, at in succeeded.items() if key in wanted}
            self._write(reports, done, moment)
        except StoreError:
            log.exception("could not refresh the status of %d SLO(s)", len(chosen))
        for definition in chosen:  # a grouped SLO's groups too
            save_group_statuses(
                self.store, definitions, self.freshness, definition, moment, self.hours
            )

    def to_refresh(
        self,
        chosen: Sequence[SLODefinition],
        stored: Mapping[str, StoredSLO],
        tick: TickResult,
        moment: int,
    ) -> list[SLODefinition]:
        """Of the SLOs a tick had, those whose snapshot it has yet to write at `moment` (see
        `still_to_refresh`); all of them if when their snapshots were computed cannot be read."""
        try:
            with self.store.read() as connection:
                shown = status.computed_at(connection)
        except StoreError:
            log.exception("could not read when the status snapshots were computed")
            shown = {}
        return still_to_refresh(list(chosen), stored, tick, shown, moment, self.freshness)

    def _totals(
        self,
        connection: Connection,
        definitions: DefinitionSet,
        chosen: Sequence[SLODefinition],
        stored: Mapping[str, StoredSLO],
        moment: int,
    ) -> dict[int, list[WindowTotals]]:
        """The sums of each SLO's report windows, SLOs with the same windows read together."""
        groups: dict[tuple[Window, ...], list[StoredSLO]] = {}
        for definition in chosen:
            windows = tuple(report_windows(definition, definitions, moment))
            groups.setdefault(windows, []).append(stored[definition.key])
        totals: dict[int, list[WindowTotals]] = {}
        for windows, members in groups.items():
            marks = {slo.id: LedgerMark(slo.checkpoint, slo.history_rewrites) for slo in members}
            totals |= ledger.window_totals_in_parts(connection, marks, windows, self.hours, GROUP)
        return totals

    def record_successes(self, succeeded: Mapping[str, int]) -> None:
        """Record evaluations that succeeded, without their snapshots (shutting down)."""
        if not succeeded:
            return
        try:
            with self.store.begin() as connection:
                ids = {slo.key: slo.id for slo in registry.list_slos(connection)}
                for key, at in succeeded.items():
                    if key in ids:
                        registry.record_success(connection, ids[key], at)
        except StoreError:
            log.exception("could not record the successes of %d SLO(s)", len(succeeded))

    def _write(
        self, reports: Sequence[tuple[int, SLOReport]], succeeded: Mapping[int, int], moment: int
    ) -> None:
        with self.store.begin() as connection:
            for slo_id, at in succeeded.items():
                registry.record_success(connection, slo_id, at)
            status.save_statuses(connection, reports, moment)


def _stored(connection: Connection, keys: Sequence[str]) -> dict[str, StoredSLO]:
    """The registered SLOs of `keys`: one by one for a few, else all in one query."""
    if len(keys) > 3:
        return {slo.key: slo for slo in registry.list_slos(connection)}
    found = (registry.get_slo(connection, key) for key in keys)
    return {slo.key: slo for slo in found if slo is not None}


def _succeeded(stored: StoredSLO, at: int | None) -> StoredSLO:
    """The SLO as it will be once its success at `at` is recorded."""
    if at is None:
        return stored
    return replace(
        stored, last_error=None, last_error_kind=None, last_error_at=None, last_success_at=at
    )
