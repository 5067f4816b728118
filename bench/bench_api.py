"""API benchmark: 1,000 SLOs with 30 days of ledger each, served by `faultline serve`.

Builds the ledger directly (43.2 million one-minute slices plus their rollups, SQLite), starts
`faultline serve` in its own process with the scheduler off, and drives it from a closed-loop
load generator on loopback. Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_api [--slos 1000] [--days 30] [--requests 400]
        [--workers 4] [--servers 1]

Prints one JSON line per endpoint with p50/p95/p99 latency; bench/RESULTS.md records them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from app.runtime.loading import load
from app.runtime.settings import load_settings
from app.runtime.wiring import build_engine
from app.testbed.prometheus import free_port

REPO = Path(__file__).resolve().parents[1]
MODES = ("payment-timeout", "replication-conflicts", "orders-backlog")


def write_definitions(directory: Path, count: int) -> None:
    """`count` SLOs in files of 25, each with three failure modes."""
    directory.mkdir(parents=True)
    shutil.copy(REPO / "slo_definitions" / "design_choices.yaml", directory)
    for service_index in range(math.ceil(count / 25)):
        lines = [
            f"service: bench-{service_index:03d}",
            f"labels: {{team: team-{service_index % 8}}}",
            "slos:",
        ]
        for index in range(service_index * 25, min(count, (service_index + 1) * 25)):
            lines += [
                f"  - name: slo-{index:04d}",
                "    objective: 99.9",
                "    sli:",
                "      events:",
                '        total: sum(rate(http_requests_total{service="checkout"}[{{window}}]))',
                '        bad: sum(rate(http_requests_total{service="checkout", code=~"5.."}[{{window}}]))',
                "    failure_modes:",
                "      - {name: payment-timeout, design_choice: synchronous-call, dependency: payment-provider,",
                '         bad: "sum(rate(payment_client_requests_total{outcome=\\"timeout\\"}[{{window}}]))"}',
                "      - {name: replication-conflicts, design_choice: multi-region, dependency: cart-replication,",
                '         bad: "sum(rate(storefront_replication_conflicts_total[{{window}}]))"}',
                "      - {name: orders-backlog, design_choice: queue, dependency: orders-queue,",
                '         when: "max(aws_sqs_approximate_age_of_oldest_message_maximum) > 300"}',
            ]
        (directory / f"bench-{service_index:03d}.yaml").write_text("\n".join(lines) + "\n")


def fill_ledger(database: Path, slo_ids: list[int], end: int, days: int, seed: int = 5) -> int:
    """Slices and rollups for every SLO, written straight into SQLite (one transaction per SLO).

    Column-wise (numpy): a 30-day ledger of 1,000 SLOs is 43.2 million slices, and building
    them one Python object at a time took longer than writing them."""
    rng = random.Random(seed)
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    start = end - days * 86400
    written = 0
    quiet = _modes_json((0.0, 0.0, 0.0))
    ends = np.arange(start + 60, end + 1, 60, dtype=np.int64)
    totals = 900.0 + 300.0 * np.sin(ends / 13_751)
    ends_listed = ends.tolist()
    rollup_keys = {size: -(-ends // size) * size for size in (3600, 300)}
    for number, slo_id in enumerate(slo_ids):
        incident = start + rng.randrange(days * 86400 - 7200)
        burning = (ends >= incident) & (ends < incident + 3600)
        bads = totals * np.where(burning, 0.03, 0.0002)
        credited = np.where(burning, bads * 0.9, 0.0)
        unattributed = bads - credited
        modes = [quiet] * len(ends_listed)
        for index in np.flatnonzero(burning).tolist():
            modes[index] = _modes_json((float(credited[index]), 0.0, 0.0))
        connection.executemany(
            "INSERT INTO slices (slo_id, t, status, total, bad, unattributed, modes,"
            " events_total, events_bad, value, excluded)"
            " VALUES (?,?,'ok',?,?,?,?,NULL,NULL,NULL,0)",
            zip(
                itertools.repeat(slo_id),
                ends_listed,
                totals.tolist(),
                bads.tolist(),
                unattributed.tolist(),
                modes,
            ),
        )
        for name, key, size in (("hourly", "hour", 3600), ("fivemin", "bucket", 300)):
            keys, first = np.unique(rollup_keys[size], return_index=True)
            sums = [np.add.reduceat(column, first) for column in (totals, bads, unattributed)]
            counts = np.diff(np.r_[first, len(ends)])
            credit = np.add.reduceat(credited, first).tolist()
            connection.executemany(
                f"INSERT INTO {name} (slo_id, {key}, total, bad, unattributed, slices, no_data_slices, excluded_slices) VALUES (?,?,?,?,?,?,0,0)",
                zip(
                    itertools.repeat(slo_id),
                    keys.tolist(),
                    *(column.tolist() for column in sums),
                    counts.tolist(),
                ),
            )
            connection.executemany(
                f"INSERT INTO {name}_modes (slo_id, {key}, mode, credited, held_slices) VALUES (?,?,?,?,0)",
                [
                    (slo_id, bucket, mode, credit[i] if m == 0 else 0.0)
                    for i, bucket in enumerate(keys.tolist())
                    for m, mode in enumerate(MODES)
                ],
            )
        connection.execute(
            "UPDATE slos SET checkpoint = ?, history_start = ? WHERE id = ?",
            (end, start + 60, slo_id),
        )
        connection.commit()
        written += len(ends_listed)
        if number % 100 == 0:
            print(f"# ledger: {number}/{len(slo_ids)} SLOs", flush=True)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all in the file, for copies
    connection.close()
    return written


def _modes_json(credited: tuple[float, float, float]) -> str:
    encoded = {
        mode: [amount, amount if index < 2 else None, None if index < 2 else 0]
        for index, (mode, amount) in enumerate(zip(MODES, credited, strict=True))
    }
    return json.dumps(encoded, separators=(",", ":"))


def load_test(
    urls: list[str], paths: Callable[[random.Random], list[str]], requests: int, workers: int
) -> dict[str, float]:
    """Closed loop: `workers` clients, `requests` in all; latency of each request group in ms.

    Client `i` talks to server `i mod len(urls)`, so several servers share the clients evenly.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = [requests]

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=urls[seed % len(urls)], timeout=30) as session:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                began = time.perf_counter()
                for path in paths(rng):
                    response = session.get(path)
                    response.raise_for_status()
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(workers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {
        "requests": len(ordered),
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "mean_ms": round(statistics.fmean(ordered), 1),
        "per_second": round(len(ordered) / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=4, help="concurrent clients")
    parser.add_argument("--servers", type=int, default=1, help="`faultline serve` processes")
    parser.add_argument("--keep", help="reuse or keep the generated ledger in this directory")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="faultline-bench-api-"))
    root.mkdir(parents=True, exist_ok=True)
    database = root / "ledger.db"
    definitions = root / "definitions"
    environment = {
        **os.environ,
        "FAULTLINE_DEFINITIONS": str(definitions),
        "FAULTLINE_ALERTS": str(REPO / "alerts"),
        "FAULTLINE_DATABASE_URL": f"sqlite:///{database}",
        "FAULTLINE_PROMETHEUS_URL": "http://127.0.0.1:9",  # never asked: the scheduler is off
        "FAULTLINE_SCHEDULER_ENABLED": "false",
    }
    try:
        if not database.exists():
            write_definitions(definitions, args.slos)
            settings = load_settings(
                definitions=definitions,
                database_url=f"sqlite:///{database}",
                alerts=REPO / "alerts",
            )
            engine = build_engine(settings, load(settings).definitions)
            ids = sorted(slo.id for slo in engine.stored_slos().values())
            end = int(time.time()) // 60 * 60 - 120
            began = time.monotonic()
            slices = fill_ledger(database, ids, end, args.days)
            print(f"# ledger: {slices} slices in {time.monotonic() - began:.0f}s", flush=True)
            began = time.monotonic()
            engine.refresh_statuses(time.time(), engine.definitions.slos)
            print(f"# statuses: {time.monotonic() - began:.1f}s", flush=True)
            engine.store.close()
        servers, urls = [], []
        for _ in range(args.servers):
            # Extra servers are read replicas: the scheduler is off in all of them here, and in
            # production only one process per ledger evaluates (docs/operations.md).
            port = free_port()
            servers.append(
                subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("faultline")),
                        "serve",
                        "--port",
                        str(port),
                    ],
                    env=environment,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        try:
            for url in urls:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.2)
            url = urls[0]
            keys = [
                item["key"]
                for item in httpx.get(
                    f"{url}/api/v1/slos", params={"limit": 1000}, timeout=60
                ).json()["items"]
            ]

            def detail_and_history(rng: random.Random) -> list[str]:
                key = rng.choice(keys)
                return [f"/api/v1/slos/{key}", f"/api/v1/slos/{key}/history"]

            for name, paths in (
                ("list (100 SLOs, worst first)", lambda rng: ["/api/v1/slos?limit=100"]),
                (
                    "list filtered by label, sorted by burn",
                    lambda rng: [
                        f"/api/v1/slos?label=team:team-{rng.randrange(8)}&sort=burn_rate&limit=50"
                    ],
                ),
                ("detail", lambda rng: [f"/api/v1/slos/{rng.choice(keys)}"]),
                ("detail + history (30d, default resolution)", detail_and_history),
            ):
                load_test(urls, paths, 20, args.workers)  # warm caches and connection pools
                figures = load_test(urls, paths, args.requests, args.workers)
                print(
                    json.dumps(
                        {
                            "endpoint": name,
                            "slos": len(keys),
                            "workers": args.workers,
                            "servers": args.servers,
                            **figures,
                        }
                    ),
                    flush=True,
                )
        finally:
            for server in servers:
                server.send_signal(signal.SIGINT)
            for server in servers:
                server.wait(timeout=60)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
