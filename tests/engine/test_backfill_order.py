"""The serving leader takes backfill jobs in order: a job held elsewhere (by a leader that may
have died) is resumed before any younger job starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import backfill
from app.sources.errors import SourceUnavailableError
from app.store import jobs
from tests.engine.conftest import make_engine

END = 1_709_510_400
KEYS = ["checkout/checkout-success", "payments-gateway/provider-timeouts"]


def test_no_job_starts_while_an_older_one_is_held_elsewhere(tmp_path: Path) -> None:
    # Prometheus never answers here: a job that starts fails at its first query.
    engine = make_engine("http://127.0.0.1:9", f"sqlite:///{tmp_path}/ledger.db", END - 3600, END)
    try:
        older, younger = backfill.plan(engine, KEYS, END - 3600, END)
        with engine.store.begin() as connection:  # the dead leader's claim, not expired yet
            assert jobs.claim(connection, older.id, "dead-leader", engine.clock(), 30)
        outcome = backfill.run(engine, backfill.pending(engine), in_order=True)
        assert outcome.done == [] and not outcome.interrupted
        with engine.store.read() as connection:
            untouched = jobs.jobs_by_id(connection, [younger.id])[0]
        assert untouched.state == "pending" and untouched.holder is None
        # Out of order (a `faultline backfill` beside serve), the younger job starts at once.
        with pytest.raises(SourceUnavailableError):
            backfill.run(engine, backfill.pending(engine))
    finally:
        engine.store.close()
