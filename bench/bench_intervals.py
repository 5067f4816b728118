"""The backfill and the steady tick at two scrape intervals side by side: both worlds built
first, then the backfills run one after the other in alternating order, so a shared machine's
load falls on both alike; with `--tick-slos`, then steady ticks, alternating too.

Each run is `bench_engine backfill` (synthetic SLOs × days into a fresh SQLite ledger) against a
Prometheus serving the shop scraped every `--intervals` seconds. A tick is `bench_engine tick`'s:
an hour of history first, queries rendered ahead, then one new slice per SLO, one minute apart
(20 minutes before the data's last hour, as 54 of 60 ticks are placed). Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_intervals [--intervals 60 15] [--slos 20]
        [--days 7] [--rounds 2] [--tick-slos 300 --ticks 4]

Prints one JSON line per run; bench/RESULTS.md records them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from app.engine.evaluate import planned_reads
from app.engine.service import Engine
from app.testbed.prometheus import PrometheusServer
from bench.bench_engine import QueryCounter, engine_for, synthetic_slos, world

Worlds = dict[int, tuple[PrometheusServer, int, int]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--intervals", type=int, nargs="+", default=[60, 15])
    parser.add_argument("--phase", type=int, default=23)
    parser.add_argument("--slos", type=int, default=20)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--tick-slos", type=int, default=0, help="also steady ticks of N SLOs")
    parser.add_argument("--ticks", type=int, default=4, help="measured ticks per interval")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="faultline-intervals-"))
    servers = {}
    try:
        for interval in args.intervals:
            sampling = argparse.Namespace(scrape_interval=interval, phase=args.phase)
            servers[interval] = world(sampling, args.days, root / f"world-{interval}")
        definitions = synthetic_slos(args.slos)
        for number in range(args.rounds):
            order = args.intervals if number % 2 == 0 else list(reversed(args.intervals))
            for interval in order:
                server, start, end = servers[interval]
                counter = QueryCounter()
                database = f"sqlite:///{root}/ledger-{interval}-{number}.db"
                engine = engine_for(
                    server.url, database, definitions, end, end - start, counter, args.concurrency
                )
                began = time.monotonic()
                result = engine.tick(now=end)
                seconds = time.monotonic() - began
                assert not result.errors and result.unavailable is None, result
                engine.store.close()
                figures = {
                    "benchmark": "backfill",
                    "round": number + 1,
                    "scrape_interval": interval,
                    "slos": args.slos,
                    "days": args.days,
                    "slices": sum(result.evaluated.values()),
                    "seconds": round(seconds, 1),
                    "prometheus_queries": counter.count,
                    "query_seconds_summed": round(counter.seconds, 1),
                }
                print(json.dumps(figures), flush=True)
        if args.tick_slos:
            ticks(args, servers, root)
    finally:
        for server, _, _ in servers.values():
            server.close()
        shutil.rmtree(root, ignore_errors=True)


def ticks(args: argparse.Namespace, servers: Worlds, root: Path) -> None:
    """Steady ticks of `--tick-slos` SLOs at each interval, the intervals alternating tick by
    tick (60, 15, 15, 60, ...), each engine over its own warm ledger."""
    definitions = synthetic_slos(args.tick_slos)
    engines: dict[int, tuple[Engine, QueryCounter, int]] = {}
    for interval in args.intervals:
        server, _, end = servers[interval]
        first = end - 60 * (args.ticks + 20)
        counter = QueryCounter()
        database = f"sqlite:///{root}/ticks-{interval}.db"
        engine = engine_for(
            server.url, database, definitions, first - 60, 3600, counter, args.concurrency
        )
        engine.tick(now=first - 60)  # the hour before: history, as a running service has
        for definition in engine.definitions.slos:
            planned_reads(engine.source, definition, first, first)  # cached after a first tick
        engines[interval] = (engine, counter, first)
    for index in range(args.ticks):
        order = args.intervals if index % 2 == 0 else list(reversed(args.intervals))
        for interval in order:
            engine, counter, first = engines[interval]
            counter.count, counter.seconds = 0, 0.0
            began = time.monotonic()
            result = engine.tick(now=first + 60 * index)
            seconds = time.monotonic() - began
            assert not result.errors and result.unavailable is None, result
            assert len(result.evaluated) == args.tick_slos, len(result.evaluated)
            figures = {
                "benchmark": "tick",
                "tick": index + 1,
                "scrape_interval": interval,
                "slos": args.tick_slos,
                "seconds": round(seconds, 2),
                "prometheus_queries": counter.count,
                "query_seconds_summed": round(counter.seconds, 2),
            }
            print(json.dumps(figures), flush=True)
    for engine, _, _ in engines.values():
        engine.store.close()


if __name__ == "__main__":
    main()
