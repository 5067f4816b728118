"""Reports straight from the ledger, for `faultline report`: no Prometheus, no evaluation, no
writes, and only the SLOs asked for are read.

The figures are the engine's (`build_slo_report`, on the definitions stored with the ledger);
only the work around them is less: one read connection for every SLO, no source, no engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.engine.reports import Freshness, build_slo_report, report_windows
from app.slo.catalog import Catalog
from app.slo.definitions import AlertsConfig, DefinitionSet
from app.slo.ledger import WindowTotals
from app.slo.report import SLOReport
from app.slo.windows import Window
from app.store import ledger, registry
from app.store.store import Store

# Reports never look a design choice up (the stored definitions name theirs).
_NO_CATALOG = Catalog(design_choices={})


class LedgerReports:
    """The reports of stored SLOs at an instant, as `Engine.report` computes them."""

    def __init__(self, store: Store, alerts: AlertsConfig, freshness: Freshness) -> None:
        self.store = store
        self.alerts = alerts
        self.freshness = freshness

    def keys(self) -> list[str]:
        """Every SLO the ledger holds (active ones), in key order."""
        with self.store.read() as connection:
            return [stored.key for stored in registry.list_slos(connection)]

    def reports(self, keys: Sequence[str] | None, at: int) -> list[SLOReport]:
        """The reports of `keys` (all SLOs when None) in that order; KeyError names the first
        key the ledger does not have. SLOs whose windows coincide (the same slice and period)
        have their window sums read together: five queries for all of them."""
        with self.store.read() as connection:
            active = registry.list_slos(connection, keys=keys)
            by_key = {stored.key: stored for stored in active}
            for key in keys or ():
                if key not in by_key:
                    raise KeyError(key)
            chosen = active if keys is None else [by_key[key] for key in keys]
            contexts = {
                stored.key: DefinitionSet(
                    slos=(registry.definition_of(stored),), catalog=_NO_CATALOG, alerts=self.alerts
                )
                for stored in chosen
            }
            groups: dict[tuple[Window, ...], list[int]] = {}
            for stored in chosen:
                context = contexts[stored.key]
                windows = tuple(report_windows(context.slos[0], context, at))
                groups.setdefault(windows, []).append(stored.id)
            totals: dict[int, list[WindowTotals]] = {}
            for windows, slo_ids in groups.items():
                totals.update(ledger.window_totals_many(connection, sorted(set(slo_ids)), windows))
            return [
                build_slo_report(
                    connection,
                    stored,
                    contexts[stored.key].slos[0],
                    contexts[stored.key],
                    at,
                    freshness=self.freshness,
                    totals=totals[stored.id],
                )
                for stored in chosen
            ]
