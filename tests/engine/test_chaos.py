"""The chaos loop, short: random kill -9 and restart of one of three `faultline serve` every
10–20 s while ticks, a backfill and alert deliveries run (tests/engine/chaos.py; the long run
is bench/bench_chaos.py). The ledger ends as a clean run's, row for row, and no notification
is lost or handled twice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.alerting.receiver import WebhookReceiver
from tests.engine.chaos import Scenario, environment, run_chaos
from tests.engine.test_concurrent_writers import Live, live
from tests.fixtures.databases import postgres_answers, postgres_schema, schema_url

__all__ = ["live"]  # the shared Prometheus fixture

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.postgres]


def test_random_kills_and_restarts_leave_a_clean_ledger_and_single_deliveries(
    live: Live, tmp_path: Path
) -> None:
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    scenario = Scenario(live.url, live.start, live.end)
    hook = WebhookReceiver()
    hook.start()
    try:
        with postgres_schema() as schema:
            env = environment(dict(os.environ), scenario, schema_url(schema), hook.url, tmp_path, 3)
            outcome = run_chaos(env, scenario, hook, tmp_path, duration=60, gap=(10, 20))
    finally:
        hook.stop()
    print(outcome)
    assert len(outcome.kills) >= 3
    assert outcome.ledger_rows > 1000 and outcome.ledger_differences == []
    assert outcome.notifications > 0 and outcome.lost == 0
    assert outcome.duplicate_effective == 0
