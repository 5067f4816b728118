"""A misbehaving source never breaks a tick or a backfill, and the ledger resumes once it behaves.

A fake Prometheus (tests/fixtures/fake_prometheus.py) sits in front of a real one: each tick or
backfill run meets one misbehaviour and must end in a named state within its deadline, with the
engine still working; then the fake forwards to the real Prometheus again and the ledger must
equal the one a clean engine computes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from app.api.metrics import EngineMetrics
from app.engine import backfill
from app.engine.service import Engine, EngineConfig
from app.slo.ledger import SliceStatus
from app.sources.errors import SourceUnavailableError
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.sources.retry import RetryPolicy
from app.store import jobs
from app.store.store import Store
from tests.conftest import RunningPrometheus
from tests.engine.conftest import shipped
from tests.engine.test_faults import ledger_rows
from tests.fixtures.fake_prometheus import FakePrometheus

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

TIMEOUT = 1.0
# Each misbehaviour, and what the tick must say about it: source-wide (the tick stops early,
# `unavailable`) or per SLO (`errors`), with a phrase of the message.
SOURCE_WIDE = {
    "drip": "no full answer within 1s",
    "sleep": "no full answer within 1s",
    "html": "answered, but not with the Prometheus API (HTTP 200, text/html)",
    "junk_json": "answered, but not with the Prometheus API (HTTP 200, application/json)",
    "unauthorized": "refused the request (HTTP 401",
    "rate_limited": "HTTP 429",
    "server_error": "HTTP 503: overloaded",
}
PER_SLO = {
    "no_data": "`data` is missing",
    "result_string": "expected a matrix result",
    "values_null": "a series without a list of values",
    "non_numeric": "a sample that is not a number",
}


def engine_over(
    url: str, database: str, start: int, end: int, metrics: EngineMetrics, first_tick: int
) -> Engine:
    """An engine whose first tick, at `first_tick`, starts its history at `start`."""
    source = PrometheusSource(
        SourceConfig(url=url, timeout=TIMEOUT, retry=RetryPolicy(2, base=0.05, cap=0.1)),
        observer=metrics.observe_query,
    )
    config = EngineConfig(evaluation_delay=0, initial_backfill=first_tick - start)
    engine = Engine(Store(database).open(), source, shipped(), config, clock=lambda: end)
    engine.after_tick.append(metrics.observe_tick)
    engine.sync()
    return engine


def checkpoints(engine: Engine) -> dict[str, int | None]:
    return {key: slo.checkpoint for key, slo in engine.stored_slos().items()}


def test_every_misbehaviour_ends_a_tick_in_a_named_state_and_the_ledger_resumes(
    prometheus_over: Callable[[str], RunningPrometheus],
    fake_prometheus: type[FakePrometheus],
    tmp_path: Path,
    engines: Callable[..., Engine],
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    fake = fake_prometheus(running.url)
    metrics = EngineMetrics(CollectorRegistry())
    midway = end - 30 * 60
    engine = engine_over(fake.url, f"sqlite:///{tmp_path}/ledger.db", start, end, metrics, midway)
    try:
        assert engine.tick(now=midway).errors == {}
        minute = midway
        for mode, phrase in {**SOURCE_WIDE, **PER_SLO}.items():
            fake.mode = mode
            minute += 60
            before = checkpoints(engine)
            began = time.monotonic()
            result = engine.tick(now=minute)
            # Attempts end by their deadline; SLOs run 4 at a time.
            assert time.monotonic() - began < 3 * 2 * TIMEOUT + 2, mode
            if mode in SOURCE_WIDE:
                assert phrase in (result.unavailable or ""), (mode, result)
            else:
                assert result.errors and all(phrase in e for e in result.errors.values()), mode
            assert not result.evaluated and checkpoints(engine) == before, mode
            stored = engine.stored_slos().values()  # the error is kept to be shown
            assert any(phrase in (slo.last_error or "") for slo in stored), mode

        for mode, reason in (("nan", "not-finite"), ("huge", "overflow")):
            fake.mode = mode
            minute += 60
            result = engine.tick(now=minute)
            assert result.evaluated and not result.errors, mode
            # Every counted SLI is no data, with why (a gauge of 1e308 is still a gauge value).
            assert result.no_data[reason] >= (len(result.evaluated) if mode == "nan" else 7), mode

        # A slow source and a tick deadline: SLOs not reached are left for the next tick.
        fake.mode, fake.slow_seconds = "slow", 0.3
        engine.config = replace(engine.config, concurrency=2)
        began = time.monotonic()
        result = engine.tick(now=end, deadline=0.8)
        assert time.monotonic() - began < 0.8 + TIMEOUT + 1
        assert result.deferred and not result.errors and result.unavailable is None

        fake.mode = "proxy"
        engine.config = replace(engine.config, concurrency=4)
        result = engine.tick(now=end, deadline=50)
        assert not result.errors and result.unavailable is None and not result.deferred
    finally:
        engine.store.close()

    reference = engines(running.url, f"sqlite:///{tmp_path}/reference.db", start, end)
    reference.tick(now=end)
    assert_same_except_no_data(ledger_rows(engine), ledger_rows(reference), midway, minute)
    counted = {
        sample.labels["kind"]: sample.value
        for sample in metrics.query_errors.collect()[0].samples
        if sample.name.endswith("_total")
    }
    for kind in ("timeout", "not_prometheus", "auth", "unavailable", "malformed"):
        assert counted[kind] > 0, kind  # every kind of failure shows in /metrics


def assert_same_except_no_data(
    rows: dict[str, list[tuple[object, ...]]],
    reference: dict[str, list[tuple[object, ...]]],
    first: int,
    last: int,
) -> None:
    """Equal, but for the slices evaluated while the source answered NaN or huge numbers:
    those are no-data (the truth was not measurable then), never counted as good; a threshold
    SLI judges a gauge of 1e308 like any other value."""
    assert rows.keys() == reference.keys()
    for key, listed in rows.items():
        ours = {row[0]: row for row in listed}
        theirs = {row[0]: row for row in reference[key]}
        assert ours.keys() == theirs.keys(), key
        for t, row in ours.items():
            if row != theirs[t]:
                assert first < int(str(t)) <= last, (key, row)
                assert row[1] == SliceStatus.NO_DATA or row[6] == 1e308, (key, row)


def test_a_backfill_meeting_a_misbehaving_source_stays_resumable(
    prometheus_over: Callable[[str], RunningPrometheus],
    fake_prometheus: type[FakePrometheus],
    tmp_path: Path,
    engines: Callable[..., Engine],
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    fake = fake_prometheus(running.url)
    database = f"sqlite:///{tmp_path}/ledger.db"
    engine = engine_over(fake.url, database, start, end, EngineMetrics(CollectorRegistry()), end)
    try:
        key = "checkout/checkout-success"
        backfill.plan(engine, [key], start, end)
        for mode in ("rate_limited", "sleep", "html"):
            fake.mode = mode
            with pytest.raises(SourceUnavailableError):
                backfill.run(engine, backfill.pending(engine))
            (job,) = backfill.pending(engine)
            assert job.state == "pending" and job.error and job.slo_key == key, mode
        fake.mode = "result_string"
        outcome = backfill.run(engine, backfill.pending(engine))
        assert "resumes" in outcome.failed[key]
        (job,) = backfill.pending(engine)
        assert job.state == "pending" and "expected a matrix result" in (job.error or "")

        # Shutdown while the answer drips: the run stops at once, the job waits for the next.
        fake.mode = "drip"
        threading.Timer(0.3, engine.stop).start()
        began = time.monotonic()
        assert backfill.run(engine, backfill.pending(engine)).interrupted
        assert time.monotonic() - began < 1.5
        (job,) = backfill.pending(engine)
        assert job.state == "pending"

        engine.source = PrometheusSource(replace(engine.source.config))  # a new process
        fake.mode = "proxy"
        outcome = backfill.run(engine, backfill.pending(engine))
        assert outcome.done == [key] and not outcome.failed and not backfill.pending(engine)
        with engine.store.read() as connection:
            assert jobs.recent_jobs(connection)[0].state == "done"
        rows = ledger_rows(engine)[key]
    finally:
        engine.store.close()
    reference = engines(running.url, f"sqlite:///{tmp_path}/reference.db", start, end)
    reference.tick(now=end)
    assert rows == ledger_rows(reference)[key]
