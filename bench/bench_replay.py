"""Replay cost: the default policy over 30 days of 100 SLOs, and of one SLO.

    PYTHONPATH=. .venv/bin/python -m bench.bench_replay [--slos 100] [--days 30] [--runs 3]
        [--database-url sqlite:///...]

`--slos` copies of checkout/checkout-success, each with `--days` + 3 days (the longest alert
window before the range) of one-minute slices: 1,000 requests a minute with a 0.02 % baseline
and, per SLO, a fast burn (100x for two hours: a budget incident) and a slow burn (10x for
eight hours) credited to payment-timeout, so every replay has transitions and an incident.
The first SLO's slices and rollups are written through the ledger; the others are copied in SQL.
Measured: `run_replay` over the whole range for all SLOs, for one SLO, and one SLO without
payment-timeout (a what-if), each the median of `--runs`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from app.engine.replay import run_replay
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus
from app.slo.replay_models import ReplayRequest
from app.slo.whatif import Change, EditKind, ModeEdit
from app.store import ledger, registry
from app.store.store import Store
from tests.alerting.copies import registered_copies
from tests.alerting.support import only, shipped

START = 1_706_745_600  # 2024-02-01 00:00 UTC
LOOKBACK_DAYS = 3
TABLES = ("slices", "hourly", "hourly_modes", "fivemin", "fivemin_modes")


def _records(first: int, last: int) -> list[SliceRecord]:
    draw = random.Random(7)
    fast = (first + 10 * 86400, first + 10 * 86400 + 2 * 3600)
    slow = (first + 20 * 86400, first + 20 * 86400 + 8 * 3600)
    records = []
    for t in range(first, last + 1, 60):
        baseline = float(draw.random() < 0.2)
        burn = 100.0 if fast[0] < t <= fast[1] else 10.0 if slow[0] < t <= slow[1] else 0.0
        records.append(
            SliceRecord(
                t=t,
                status=SliceStatus.OK,
                total=1000.0,
                bad=baseline + burn,
                unattributed=baseline,
                modes={"payment-timeout": ModeSlice(credited=burn)},
            )
        )
    return records


def build(url: str, slos: int, days: int) -> tuple[Store, object, int]:
    base = only(shipped(), "checkout/checkout-success")
    definitions, store, ids = registered_copies(url, base, slos, START)
    first, last = START + 60, START + (days + LOOKBACK_DAYS) * 86400
    began = time.perf_counter()
    records = _records(first, last)
    with store.begin() as connection:
        for chunk in range(0, len(records), 1440):
            ledger.write_slices(connection, ids[0], records[chunk : chunk + 1440])
        for slo_id in ids:
            registry.advance_checkpoint(connection, slo_id, first, last, 60)
        for slo_id in ids[1:]:
            for table in TABLES:
                columns = [
                    row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")
                ]
                rest = ", ".join(c for c in columns if c != "slo_id")
                connection.execute(
                    text(
                        f"INSERT INTO {table} (slo_id, {rest}) "
                        f"SELECT :target, {rest} FROM {table} WHERE slo_id = :source"
                    ),
                    {"target": slo_id, "source": ids[0]},
                )
    took = time.perf_counter() - began
    print(f"ledger: {slos} SLOs × {days + LOOKBACK_DAYS} d written in {took:.1f} s")
    return store, definitions, last


def _timed(runs: int, call: object) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds of this process, the last answer)."""
    times, cpu, answer = [], [], None
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        answer = call()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return statistics.median(times), statistics.median(cpu), answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slos", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = options.database_url or f"sqlite:///{Path(directory) / 'replay.db'}"
        store, definitions, last = build(url, options.slos, options.days)
        since = f"{options.days}d"

        def replay(request: ReplayRequest) -> object:
            return run_replay(store, definitions, request, base_url="http://bench", now=last)  # type: ignore[arg-type]

        one = "checkout/checkout-000"
        removal = Change(modes=(ModeEdit(mode="payment-timeout", kind=EditKind.REMOVE),))
        cases = [
            (f"{options.slos} SLOs, default policy", ReplayRequest(since=since)),
            ("1 SLO, default policy", ReplayRequest(slos=(one,), since=since)),
            (
                "1 SLO, without payment-timeout",
                ReplayRequest(slos=(one,), since=since, change=removal),
            ),
        ]
        for label, request in cases:
            seconds, cpu, answer = _timed(options.runs, lambda request=request: replay(request))
            slos = answer.slos  # type: ignore[attr-defined]
            alerts = sum(len(s.actual.alerts) for s in slos)
            incidents = sum(len(s.actual.incidents) for s in slos)
            print(
                f"{label}, {options.days} d: median {seconds:.2f} s wall, {cpu:.2f} s CPU "
                f"of {options.runs} runs "
                f"({len(slos)} SLOs, {alerts} replayed transitions, {incidents} incidents)"
            )
        store.close()


if __name__ == "__main__":
    main()
