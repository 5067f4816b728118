"""Chaos loop benchmark: three `faultline serve` on one PostgreSQL ledger over a real Prometheus
scenario ending now, while ticks evaluate the scenario from its start (its alerts fire on the
way), a backfill of it and of three hours before it runs, and alert notifications go to a
webhook receiver; every 30–90 s one replica chosen at random is killed -9
and started again, for `--minutes`. Then the run settles and is compared with a clean one.

    PYTHONPATH=. .venv/bin/python -m bench.bench_chaos --minutes 10

Prints one JSON line: the kills (seconds into the run), the time from each kill until every SLO
is held again, the time from the last kill until the ledger, the backfill and the outbox are
complete, the ledger rows compared and the differences with one process's clean run (expected
none), and the notifications: handled, lost, duplicate effective deliveries (expected 0), and
re-sends with a key already handled (the receiver's dedup absorbs them).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from app.testbed.dataset import generate
from app.testbed.prometheus import PrometheusServer
from app.testbed.scenarios import fast_burn, start_ending_before
from app.testbed.tsdb import build_tsdb
from tests.alerting.receiver import WebhookReceiver
from tests.engine.chaos import Scenario, environment, run_chaos
from tests.fixtures.databases import postgres_schema, schema_url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--hours", type=int, default=12, help="scenario length (backfilled)")
    parser.add_argument("--lease", type=float, default=10)
    parser.add_argument("--gap", type=float, nargs=2, default=(30, 90))
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faultline-bench-chaos-") as directory:
        root = Path(directory)
        minutes = args.hours * 60
        named = fast_burn(start_ending_before(time.time(), minutes, margin_minutes=0), minutes)
        build_tsdb(generate(named.scenario), root / "tsdb", work_dir=root)
        server = PrometheusServer(root / "tsdb", work_dir=root / "prometheus")
        server.start()
        hook = WebhookReceiver()
        hook.start()
        try:
            scenario = Scenario(server.url, named.scenario.start, named.scenario.end)
            with postgres_schema() as schema:
                env = environment(
                    dict(os.environ), scenario, schema_url(schema), hook.url, root, args.lease
                )
                started = time.monotonic()
                outcome = run_chaos(
                    env,
                    scenario,
                    hook,
                    root,
                    duration=args.minutes * 60,
                    gap=tuple(args.gap),  # type: ignore[arg-type]
                    seed=args.seed,
                    settle_timeout=1800,
                )
            figures = asdict(outcome) | {
                "minutes": args.minutes,
                "scenario_hours": args.hours,
                "lease_s": args.lease,
                "wall_s": round(time.monotonic() - started, 1),
            }
            print(json.dumps(figures), flush=True)
        finally:
            hook.stop()
            server.close()


if __name__ == "__main__":
    main()
