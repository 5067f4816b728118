"""The backfill at two scrape intervals side by side: both worlds built first, then the backfills
run one after the other in alternating order, so a shared machine's load falls on both alike.

Each run is `bench_engine backfill` (synthetic SLOs × days into a fresh SQLite ledger) against a
Prometheus serving the shop scraped every `--intervals` seconds. Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_intervals [--intervals 60 15] [--slos 20]
        [--days 7] [--rounds 2]

Prints one JSON line per run; bench/RESULTS.md records them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from bench.bench_engine import QueryCounter, engine_for, synthetic_slos, world


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
    finally:
        for server, _, _ in servers.values():
            server.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
