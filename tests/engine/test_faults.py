"""Faults, with nothing lost: a Prometheus outage, a killed backfill, one SLO with broken PromQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.engine.service import Engine
from app.slo.conventions import Status
from app.slo.windows import Window
from app.store import ledger, registry
from app.store.tables import slices
from tests.conftest import RunningPrometheus
from tests.engine.conftest import REPO, shipped, shipped_with_a_broken_slo

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]
StartPrometheus = Callable[[str], RunningPrometheus]


def ledger_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every slice of every SLO, as plain tuples, for exact comparison between runs."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    with engine.store.read() as connection:
        for stored in registry.list_slos(connection):
            records = ledger.read_slices(connection, stored.id, Window(0, 2**40))
            rows[stored.key] = [
                (
                    r.t,
                    r.status,
                    r.total,
                    r.bad,
                    r.unattributed,
                    tuple(sorted(r.modes.items())),
                    r.value,
                )
                for r in records
            ]
    return rows


def test_a_prometheus_outage_leaves_no_hole(
    prometheus_over: StartPrometheus,
    database_url: str,
    tmp_path: Path,
    engines: Callable[..., Engine],
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    midway = start + 3 * 3600
    reference = engines(running.url, f"sqlite:///{tmp_path}/reference.db", start, end)
    reference.tick(now=midway)
    reference.tick(now=end)

    engine = engines(running.url, database_url, start, end)
    engine.tick(now=midway)
    running.server.stop()
    try:
        for minute in range(1, 11):  # ten minutes of ticks while Prometheus is down
            result = engine.tick(now=midway + 60 * minute)
            assert result.unavailable is not None
            assert not result.evaluated
        during = engine.report("checkout/checkout-success", midway + 600)
        assert during.status is Status.STALE
        assert "unavailable" in (during.error or "")
    finally:
        running.server.start()
    result = engine.tick(now=end)
    assert result.unavailable is None and not result.errors
    assert ledger_rows(engine) == ledger_rows(reference)
    after = engine.report("checkout/checkout-success", end)
    assert after.status is Status.OK
    assert after.budget.consumed == pytest.approx(
        reference.report("checkout/checkout-success", end).budget.consumed, rel=1e-12
    )


def test_a_killed_backfill_resumes_to_the_same_ledger(
    prometheus_over: StartPrometheus,
    database_url: str,
    tmp_path: Path,
    engines: Callable[..., Engine],
) -> None:
    running = prometheus_over("slow_burn")
    start, end = running.scenario.start, running.scenario.end
    environment = {
        **os.environ,
        "FAULTLINE_DATABASE_URL": database_url,
        "FAULTLINE_PROMETHEUS_URL": running.url,
        "FAULTLINE_DEFINITIONS": str(REPO / "slo_definitions"),
        "FAULTLINE_ALERTS": str(REPO / "alerts"),
        # Tiny chunks: many durable steps, so the kill lands in the middle of the work.
        "FAULTLINE_PROMETHEUS_MAX_POINTS": "30",
        "FAULTLINE_EVALUATION_DELAY": "0",
        # The killed run's claim on its jobs expires after this; the rerun then resumes them.
        "FAULTLINE_LEASE_SECONDS": "2",
    }
    command = [
        str(Path(sys.executable).with_name("faultline")),
        "backfill",
        "--from",
        str(start),
        "--to",
        str(end),
    ]
    log = (tmp_path / "killed-backfill.log").open("wb")
    process = subprocess.Popen(command, env=environment, cwd=tmp_path, stdout=log, stderr=log)
    engine = engines(running.url, database_url, start, end)
    deadline = time.monotonic() + 180  # generous: CI machines may be busy
    while time.monotonic() < deadline and process.poll() is None and _slice_count(engine) < 600:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    log.close()
    written_when_killed = _slice_count(engine)
    expected = 11 * (end - start) // 60
    output = (tmp_path / "killed-backfill.log").read_text(errors="replace")
    assert 0 < written_when_killed < expected, f"the kill should land mid-backfill:\n{output}"

    resumed = subprocess.run(
        command, env=environment, cwd=tmp_path, capture_output=True, timeout=300, check=False
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert b"resuming" in resumed.stderr
    assert _slice_count(engine) == expected  # every slice once, no duplicates

    reference = engines(running.url, f"sqlite:///{tmp_path}/reference.db", start, end)
    reference.tick(now=end)
    assert ledger_rows(engine) == ledger_rows(reference)


def _slice_count(engine: Engine) -> int:
    with engine.store.read() as connection:
        return int(connection.execute(select(func.count()).select_from(slices)).scalar_one())


def test_broken_promql_marks_only_its_slo(
    prometheus_over: StartPrometheus, database_url: str, engines: Callable[..., Engine]
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    definitions = shipped()
    with_broken = shipped_with_a_broken_slo()
    engine = engines(running.url, database_url, start, end, definitions=with_broken)
    result = engine.tick(now=end)
    assert set(result.errors) == {"broken/unknown-function"}
    assert "sort_by_label" in result.errors["broken/unknown-function"]
    assert set(result.evaluated) == {d.key for d in definitions.slos}
    report = engine.report("broken/unknown-function", end)
    assert report.status is Status.ERROR
    assert report.error is not None and "sort_by_label" in report.error
    assert engine.report("checkout/checkout-success", end).status is Status.OK
