"""Build the ledger's read side from settings: what `faultline report` needs and nothing more.

Kept apart from `app.runtime.wiring` so a report never imports the engine's evaluation, the
Prometheus client or Alembic: it opens the ledger without migrating and reads.
"""

from __future__ import annotations

from app.engine.ledger_reports import LedgerReports
from app.engine.reports import Freshness
from app.runtime.loading import load_alerts_config
from app.runtime.settings import Settings
from app.store.store import Store


def ledger_reports(settings: Settings) -> LedgerReports:
    """Reports over the stored ledger; raises StoreError when it cannot be read."""
    # Never migrate to read: the ledger may be read-only; an old schema is reported instead.
    store = Store(settings.database_url).open(migrate=False)
    freshness = Freshness(
        stale_after=settings.stale_after, evaluation_delay=settings.evaluation_delay
    )
    return LedgerReports(store, load_alerts_config(settings), freshness)
