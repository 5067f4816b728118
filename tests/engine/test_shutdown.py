"""Real processes against a misbehaving source: SIGTERM ends `serve` in bounded time, and a
`backfill` against a URL that is not Prometheus says so in one line, without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.store import jobs, registry
from app.store.store import Store
from app.testbed.prometheus import free_port
from tests.engine.conftest import REPO
from tests.fixtures.fake_prometheus import FakePrometheus

pytestmark = pytest.mark.slow

FAULTLINE = str(Path(sys.executable).with_name("faultline"))
STOP_WITHIN = 15.0  # seconds from SIGTERM to exit, however slowly the source drips


def environment(prometheus_url: str, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FAULTLINE_DATABASE_URL": database_url,
        "FAULTLINE_PROMETHEUS_URL": prometheus_url,
        "FAULTLINE_DEFINITIONS": str(REPO / "slo_definitions"),
        "FAULTLINE_ALERTS": str(REPO / "alerts"),
        # Long enough that only giving up on the query in flight can meet STOP_WITHIN.
        "FAULTLINE_PROMETHEUS_TIMEOUT": "12.5",
    }


def test_sigterm_during_a_tick_against_a_dripping_source_ends_serve_in_time(
    fake_prometheus: type[FakePrometheus], tmp_path: Path
) -> None:
    fake = fake_prometheus(mode="drip")
    database = f"sqlite:///{tmp_path}/ledger.db"
    command = [FAULTLINE, "serve", "--port", str(free_port())]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=environment(fake.url, database), cwd=tmp_path, stdout=log, stderr=log
        )
        try:
            started = time.monotonic()
            while not fake.requests and time.monotonic() - started < 60:
                assert process.poll() is None, log_path.read_text(errors="replace")
                time.sleep(0.05)
            assert fake.requests, "the first tick never asked the source"
            time.sleep(0.5)  # the tick is now waiting on a dripping answer
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            process.wait(timeout=STOP_WITHIN + 15)
            stopped_after = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    output = log_path.read_text(errors="replace")
    assert stopped_after < STOP_WITHIN, output
    print(f"serve stopped {stopped_after:.2f}s after SIGTERM")
    # uvicorn shuts down cleanly, then re-raises the signal it caught (exit by SIGTERM).
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output, output
    # Nothing half-read was written: no checkpoint without its slices.
    store = Store(database).open()
    try:
        with store.read() as connection:
            assert all(slo.checkpoint is None for slo in registry.list_slos(connection))
    finally:
        store.close()


def test_a_backfill_against_a_url_that_is_not_prometheus_says_so(
    fake_prometheus: type[FakePrometheus], tmp_path: Path
) -> None:
    fake = fake_prometheus(mode="html")
    database = f"sqlite:///{tmp_path}/ledger.db"
    done = subprocess.run(
        [FAULTLINE, "backfill", "--slo", "checkout/checkout-success", "--since", "2h"],
        env=environment(fake.url, database),
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    errors = done.stderr.decode(errors="replace")
    assert done.returncode == 3, errors
    assert f"{fake.url} answered, but not with the Prometheus API (HTTP 200, text/html)" in errors
    assert "Traceback" not in errors and "run the command again" not in errors
    store = Store(database).open()
    try:
        with store.read() as connection:
            (job,) = jobs.unfinished_jobs(connection)
    finally:
        store.close()
    assert job.state == "pending" and "not with the Prometheus API" in (job.error or "")
