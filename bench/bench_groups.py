"""Grouped SLOs at scale (issue 18): tick, backfill and API of grouped SLOs, side by side with
ungrouped SLOs over the same data, in one run on the same machine, cost per ledger compared.

A real Prometheus (Debian package) on loopback serves `--groups` routes: per route a request
counter (codes 200 and 500) and two failure-mode counters (payment timeouts, replication
conflicts), plus one global queue-age gauge. Grouped: `--slos` SLOs, each `group_by: [route]`
(every route a group), three failure modes (two `bad` per group, one global `when`). Ungrouped:
`--ungrouped` SLOs, each one route's (what a team writes without `group_by`), the same three
modes. Each SLO has a matcher of its own, so Prometheus cannot answer one from another's cache.
Every measured tick or backfill runs in a process of its own (its peak RSS is its own), grouped
and ungrouped alternating. Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_groups tick [--slos 20] [--groups 500] [--ungrouped 1000]
    PYTHONPATH=. .venv/bin/python -m bench.bench_groups backfill [--slos 1] [--groups 500] [--ungrouped 500] [--days 7] [--rounds 3]

How to run the backfill comparison (idle machine; at full size a pair took ~2.5 min at load 1.5,
~4.5 with `--before`; the data is built once, ~30 s): `backfill --slos 1 --groups 500 --ungrouped 500 --days 7 --rounds 3`; add
`--before DIR` (a `git archive` of the code to compare with, unpacked) for a third side. During
development a smaller size answers the same question: `--groups 100 --ungrouped 100 --days 2`
(or `--groups 500 --ungrouped 500 --days 2`: the same chunks as the full size, fewer of them).

`tick`: an hour of history for every ledger (the warm-up), then `--rounds` rounds of
(grouped, ungrouped; then ungrouped, grouped) processes, each ticking twice one minute apart
(the first tick fills what a running process keeps between ticks) and measuring the second,
each tick followed by the alert evaluation; then the API (`faultline serve`, scheduler off) of both ledgers: a grouped SLO's
groups list and the SLO list, p50/p95/p99. `backfill`: `--days` of history of every ledger on
an empty ledger, in `--rounds` pairs of processes (grouped then ungrouped; ungrouped then
grouped; …), each pair's per-ledger ratio (grouped ms per ledger over ungrouped's) and peak RSS
of each side printed as it ends, then the median ratio over the pairs (one pair on a shared
machine ranged 0.8–1.7×). The alert evaluation is off in a backfill (`--no-alerts`): its time and
memory are the tick's benchmark, not the backfill's.

The two sides do the same work per ledger: the same `--days` of one-minute slices (each pair
checks that every ledger holds `--days` × 1,440 slices), the same SLI and three failure modes
over the same route's series, the same source and `--concurrency` (4 SLOs at once ungrouped; a
grouped SLO's 4 queries at once). A grouped ledger is a group or its SLO (501 for 1 × 500); what
differs is the feature: the grouped SLO asks its 5 queries once per chunk for all its groups,
the ungrouped SLOs 4 each (the global `when` is shared) per chunk.

Why `backfill --slos 1 --groups 500` stands for the issue's 20 grouped SLOs × 500 groups: the
full size is 20 × 500 group ledgers × 10,080 slices = 100.8 million slices (about 24 GB of
SQLite, hours here). A backfill's cost is per SLO: each grouped SLO asks its own queries, in its
own chunks, and writes its own 501 ledgers, whatever the other SLOs do, so 1 × 500 (5.05 million
slices) against 500 ungrouped SLOs (5.04 million) is a twentieth of 20 × 500 against 10,000
ungrouped SLOs, at the same cost per ledger. Not its memory: the engine backfills
`--concurrency` SLOs at once, so 20 grouped SLOs hold up to 4 SLOs' chunks at a time (`--slos 4
--ungrouped 2000` would show that peak; not measured).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app.alerting.evaluator import AlertEvaluator
from app.runtime.loading import load_definitions
from app.testbed.prometheus import PrometheusServer, find_binary, free_port
from app.testbed.tsdb import BLOCK_SECONDS
from bench.bench_api import load_test
from bench.bench_engine import QueryCounter, engine_for, peak_rss_mb

REPO = Path(__file__).resolve().parents[1]
# The first block boundary after 2024-03-04: the data fits one block of `promtool`'s.
START = (1_709_510_400 // BLOCK_SECONDS + 1) * BLOCK_SECONDS
MODES = """\
    failure_modes:
      - name: payment-timeout
        design_choice: synchronous-call
        dependency: payment-provider
        bad: SUM(rate(shop_payment_timeouts_total{ROUTE, route!="x{I}"}[{{window}}]))
      - name: replication-conflicts
        design_choice: multi-region
        dependency: cart-replication
        bad: SUM(rate(shop_replication_conflicts_total{ROUTE, route!="x{I}"}[{{window}}]))
      - name: orders-backlog
        design_choice: queue
        dependency: orders-queue
        when: max(shop_queue_age_seconds) > 300
"""
SLO = """\
  - name: NAME
    objective: 99.9
    period: 30d
GROUPING    sli:
      events:
        total: SUM(rate(shop_requests_total{ROUTE, code!="{I}"}[{{window}}]))
        bad: SUM(rate(shop_requests_total{ROUTE, code="500", code!="{I}"}[{{window}}]))
"""


def good(route: int) -> int:
    return 10 + route % 7


def bad(route: int) -> int:
    return route % 3


def counters(route: int) -> dict[str, int]:
    """Per minute, of each counter of the route (its failure modes explain part of `bad`)."""
    return {
        'shop_requests_total{route="R",code="200"}': good(route),
        'shop_requests_total{route="R",code="500"}': bad(route),
        'shop_payment_timeouts_total{route="R"}': min(1, bad(route)),
        'shop_replication_conflicts_total{route="R"}': int(bad(route) == 2),
    }


def write_openmetrics(path: Path, routes: int, minutes: int) -> int:
    """Every route's counters, one sample a minute from START; the queue is old (600 s) for
    the first ten minutes of every hour. Returns the samples written."""
    written = 0
    with path.open("w") as out:
        for family in ("shop_requests", "shop_payment_timeouts", "shop_replication_conflicts"):
            out.write(f"# TYPE {family} counter\n")
            for route in range(routes):
                for series, per_minute in counters(route).items():
                    if not series.startswith(family + "_total"):
                        continue
                    name = series.replace('"R"', f'"r{route:03d}"')
                    out.write(
                        "".join(
                            f"{name} {per_minute * m} {START + 60 * m}\n" for m in range(minutes)
                        )
                    )
                    written += minutes
        out.write("# TYPE shop_queue_age_seconds gauge\n")
        out.write(
            "".join(
                f"shop_queue_age_seconds {600 if m % 60 < 10 else 5} {START + 60 * m}\n"
                for m in range(minutes)
            )
        )
        out.write("# EOF\n")
    return written + minutes


def world(root: Path, routes: int, minutes: int) -> PrometheusServer:
    began = time.monotonic()
    source, data = root / "routes.om", root / "tsdb"
    samples = write_openmetrics(source, routes, minutes)
    command = [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics"]
    command += [f"--max-block-duration={BLOCK_SECONDS // 3600}h", "--quiet", str(source), str(data)]
    subprocess.run(command, check=True, timeout=3600, stdout=subprocess.DEVNULL)
    source.unlink()
    server = PrometheusServer(data, work_dir=root / "prometheus")
    server.start()
    print(f"# data: {samples} samples ready in {time.monotonic() - began:.0f}s", flush=True)
    return server


def write_definitions(directory: Path, slos: int, groups: int, *, grouped: bool) -> None:
    """`slos` SLOs in files of 25: grouped by route (every route a group), or each one route's."""
    directory.mkdir(parents=True)
    catalog = REPO / "slo_definitions" / "design_choices.yaml"
    (directory / catalog.name).write_bytes(catalog.read_bytes())
    for first in range(0, slos, 25):
        service = f"{'grouped' if grouped else 'single'}-{first // 25:03d}"
        lines = [f"service: {service}\nslos:\n"]
        for index in range(first, min(slos, first + 25)):
            name = f"routes-{index:02d}" if grouped else f"route-{index:04d}"
            route = "" if grouped else f'route="r{index % groups:03d}"'
            aggregation = "sum by (route)" if grouped else "sum"
            grouping = f"    group_by: [route]\n    max_groups: {groups}\n" if grouped else ""
            text = (SLO + MODES).replace("GROUPING", grouping).replace("NAME", name)
            text = text.replace("SUM", aggregation).replace("{I}", str(index))
            lines.append(text.replace("{ROUTE, ", "{" + route + ", " if route else "{"))
        (directory / f"{service}.yaml").write_text("".join(lines))


def run_step(
    kind: str, args: argparse.Namespace, root: Path, now: int, span: int, ticks: int = 1
) -> dict[str, Any]:
    """`ticks` one minute apart (each followed by the alert evaluation) of `kind`'s ledger, the
    last at `now`, in a process of its own; the figures of the last."""
    command = [sys.executable, str(Path(__file__).resolve()), "step", "--kind", kind]
    command += ["--root", str(root), "--url", args.url, "--now", str(now), "--span", str(span)]
    command += ["--ticks", str(ticks)]
    command += ["--concurrency", str(args.concurrency)]
    if not args.alerts:
        command.append("--no-alerts")
    # "grouped-before": the grouped SLOs, evaluated by the code of `--before` (its `app`).
    code = str(args.before) if kind.endswith("-before") else str(REPO)
    environment = {**os.environ, "PYTHONPATH": code}
    output = subprocess.run(
        command, check=True, stdout=subprocess.PIPE, text=True, env=environment
    ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    print(json.dumps(figures), flush=True)
    return figures


def step(args: argparse.Namespace) -> None:
    """The worker: open `kind`'s ledger, tick `--ticks` times up to `now` (the process's first
    tick fills what a running `serve` keeps between ticks), print the last one's figures."""
    directory = Path(args.root) / args.kind
    definitions = load_definitions(directory / "definitions", alerts=REPO / "alerts")
    assert definitions.ok, definitions.problems
    counter = QueryCounter()
    database = f"sqlite:///{directory}/ledger.db"
    loaded = definitions.definitions
    engine = engine_for(args.url, database, loaded, args.now, args.span, counter, args.concurrency)
    evaluator = AlertEvaluator(engine.store, lambda: loaded, base_url="http://127.0.0.1:9")
    for moment in range(args.now - 60 * (args.ticks - 1), args.now + 1, 60):
        counter.count = 0
        began = time.monotonic()
        result = engine.tick(now=moment)
        seconds = time.monotonic() - began
        tick_peak = peak_rss_mb()  # before the alert evaluation's
        assert not result.errors and result.unavailable is None, result
        alert_seconds = None
        if args.alerts:
            began = time.monotonic()
            judged = evaluator.evaluate()
            alert_seconds = round(time.monotonic() - began, 2)
            assert not judged.errors, judged.errors
    with engine.store.read() as connection:
        ledgers = connection.exec_driver_sql("SELECT count(*) FROM slos").scalar_one()
        groups = connection.exec_driver_sql(
            "SELECT count(*) FROM slos WHERE parent_id IS NOT NULL"
        ).scalar_one()
        # Every ledger's slices (a grouped SLO's `result.evaluated` counts its own only).
        ledger_slices = connection.exec_driver_sql("SELECT count(*) FROM slices").scalar_one()
    slices = sum(result.evaluated.values())
    engine.store.close()
    figures = {
        "kind": args.kind,
        "now": args.now,
        "slos": len(loaded.slos),
        "group_ledgers": int(groups),
        "ledgers": int(ledgers),
        "seconds": round(seconds, 2),
        "slices": slices,
        "ledger_slices": int(ledger_slices),
        "ms_per_ledger": round(1000 * seconds / max(1, int(ledgers)), 3),
        "prometheus_requests": counter.count,
        "alert_seconds": alert_seconds,
        "tick_peak_rss_mb": round(tick_peak, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(figures), flush=True)


def bench_tick(args: argparse.Namespace, root: Path) -> list[dict[str, Any]]:
    server = world(root, args.groups, args.minutes)
    args.url = server.url
    try:
        end = START + 60 * (args.minutes - 1)
        first = end - 60 * (4 * args.rounds)
        figures = []
        kinds = kinds_of(args)
        for kind in kinds:
            warm = run_step(kind, args, root, first - 60, 3600)
            figures.append({**warm, "phase": "warm-up"})
        for index in range(2 * args.rounds):
            for kind in kinds if index % 2 == 0 else kinds[::-1]:
                ran = run_step(kind, args, root, first + 120 * index + 60, 3600, ticks=2)
                figures.append({**ran, "phase": "tick"})
        figures += bench_api(args, root)
        return figures
    finally:
        server.close()


def kinds_of(args: argparse.Namespace) -> list[str]:
    return ["grouped", "ungrouped", *(["grouped-before"] if args.before else [])]


def bench_backfill(args: argparse.Namespace, root: Path) -> list[dict[str, Any]]:
    """`--rounds` pairs (with `--before`, triples), the order reversed every other pair."""
    server = world(root, args.groups, args.days * 1440 + 1)
    args.url = server.url
    try:
        end = START + 86400 * args.days
        # Every sample read once first, so the first pair's first side does not pay for a cold
        # Prometheus (its blocks' pages) alone.
        warm = {"query": f'count(count_over_time({{__name__=~"shop_.+"}}[{args.days}d]))'}
        httpx.get(f"{server.url}/api/v1/query", params={**warm, "time": str(end)}, timeout=600)
        figures: list[dict[str, Any]] = []
        pairs = []
        kinds = kinds_of(args)
        for index in range(args.rounds):
            ran = {}
            for kind in kinds if index % 2 == 0 else kinds[::-1]:
                (root / kind / "ledger.db").unlink(missing_ok=True)
                for suffix in ("-wal", "-shm"):
                    (root / kind / f"ledger.db{suffix}").unlink(missing_ok=True)
                ran[kind] = run_step(kind, args, root, end, 86400 * args.days)
                figures.append({**ran[kind], "phase": "backfill", "days": args.days})
            pairs.append(pair_figures(ran, index + 1, args.days))
            print(json.dumps(pairs[-1]), flush=True)
        summary: dict[str, Any] = {"phase": "backfill median", "pairs": len(pairs)}
        for key in pairs[0]:
            if key.startswith("ratio"):
                summary[key] = round(statistics.median(p[key] for p in pairs), 3)
        for kind in kinds:
            peaks = [p[f"{kind}_peak_rss_mb"] for p in pairs]
            summary[f"{kind}_peak_rss_mb"] = [min(peaks), max(peaks)]
        print(json.dumps(summary), flush=True)
        return [*figures, *pairs, summary]
    finally:
        server.close()


def kinds_in(ran: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(ran, key=["grouped", "grouped-before", "ungrouped"].index)


def pair_figures(ran: dict[str, dict[str, Any]], round_: int, days: int) -> dict[str, Any]:
    """One pair's per-ledger ratios (each grouped side's ms per ledger over the ungrouped's)
    and peak RSS; says so when a side's ledgers do not all hold `days` of slices."""
    base = ran["ungrouped"]["ms_per_ledger"]
    row: dict[str, Any] = {"phase": "backfill pair", "round": round_, "order": list(ran)}
    for kind in kinds_in(ran):
        if kind != "ungrouped":
            row[f"ratio_{kind.replace('-', '_')}"] = round(ran[kind]["ms_per_ledger"] / base, 3)
    for kind, figures in ran.items():
        row[f"{kind}_seconds"] = figures["seconds"]
        row[f"{kind}_peak_rss_mb"] = figures["tick_peak_rss_mb"]
        per_ledger = figures["ledger_slices"] / max(1, figures["ledgers"])
        if per_ledger != days * 1440:
            row[f"{kind}_unequal_work"] = f"{per_ledger:g} slices per ledger, not {days * 1440}"
    return row


def serve(root: Path, kind: str, before: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    code = str(before) if kind.endswith("-before") and before else str(REPO)
    environment = {
        **os.environ,
        "PYTHONPATH": code,
        "FAULTLINE_DEFINITIONS": str(root / kind / "definitions"),
        "FAULTLINE_ALERTS": str(REPO / "alerts"),
        "FAULTLINE_DATABASE_URL": f"sqlite:///{root / kind / 'ledger.db'}",
        "FAULTLINE_PROMETHEUS_URL": "http://127.0.0.1:9",  # never asked: the scheduler is off
        "FAULTLINE_SCHEDULER_ENABLED": "false",
    }
    command = [str(Path(sys.executable).with_name("faultline")), "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    return process, url


def bench_api(args: argparse.Namespace, root: Path) -> list[dict[str, Any]]:
    """p50/p95/p99 of the groups list and the SLO list, grouped and ungrouped ledgers' servers
    alternating (two rounds), `--workers` clients."""
    servers = {kind: serve(root, kind, args.before) for kind in kinds_of(args)}
    try:
        grouped_url = servers["grouped"][1]
        keys = [
            i["key"] for i in httpx.get(f"{grouped_url}/api/v1/slos", timeout=60).json()["items"]
        ]

        def groups_of(rng: random.Random) -> list[str]:
            return [f"/api/v1/slos/{rng.choice(keys)}/groups?limit=100"]

        def searched(rng: random.Random) -> list[str]:
            return [
                f"/api/v1/slos/{rng.choice(keys)}/groups?search=r{rng.randrange(50):02d}&limit=20"
            ]

        endpoints = [
            ("grouped", f"groups list (100 of {args.groups} groups, worst first)", groups_of),
            ("grouped", "groups list, searched by route", searched),
            *(
                [("grouped-before", "groups list, the code before", groups_of)]
                if args.before
                else []
            ),
            ("grouped", "SLO list (grouped SLOs)", lambda rng: ["/api/v1/slos?limit=100"]),
            (
                "ungrouped",
                "SLO list (100 of the ungrouped SLOs, worst first)",
                lambda rng: ["/api/v1/slos?limit=100"],
            ),
        ]
        figures = []
        for round_ in range(2):
            for kind, name, paths in endpoints if round_ == 0 else endpoints[::-1]:
                url = servers[kind][1]
                load_test([url], paths, 20, args.workers)  # warm caches and connection pools
                measured = load_test([url], paths, args.requests, args.workers)
                row = {"endpoint": name, "kind": kind, "round": round_ + 1, "workers": args.workers}
                row |= measured | {"load_average": [round(x, 2) for x in os.getloadavg()]}
                print(json.dumps(row), flush=True)
                figures.append(row)
        return figures
    finally:
        for process, _ in servers.values():
            process.send_signal(signal.SIGINT)
        for process, _ in servers.values():
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=["tick", "backfill", "step"])
    parser.add_argument("--slos", type=int, default=None, help="grouped SLOs (tick 20, backfill 1)")
    parser.add_argument("--groups", type=int, default=500, help="routes: groups per grouped SLO")
    parser.add_argument(
        "--ungrouped",
        type=int,
        default=None,
        help="ungrouped SLOs (default: tick 1000, backfill slos x groups)",
    )
    parser.add_argument("--days", type=int, default=7, help="backfill: days of history")
    parser.add_argument("--minutes", type=int, default=90, help="tick: minutes of data")
    parser.add_argument(
        "--rounds", type=int, default=1, help="tick: rounds of 2 ticks each; backfill: pairs"
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-alerts", dest="alerts", action="store_false")
    parser.add_argument("--requests", type=int, default=200, help="API: requests per endpoint")
    parser.add_argument("--workers", type=int, default=1, help="API: concurrent clients")
    parser.add_argument("--keep", type=Path, help="keep the ledgers and definitions here")
    parser.add_argument(
        "--before",
        type=Path,
        help="a copy of the code before (its `app`): its grouped runs alternate with today's",
    )
    # The worker's (`step`).
    parser.add_argument("--kind")
    parser.add_argument("--root")
    parser.add_argument("--url")
    parser.add_argument("--now", type=int)
    parser.add_argument("--span", type=int)
    parser.add_argument("--ticks", type=int, default=1)
    args = parser.parse_args()
    if args.which == "step":
        step(args)
        return
    args.slos = args.slos or (20 if args.which == "tick" else 1)
    if args.which == "backfill":
        args.alerts = False  # the backfill's time and memory, not the alert evaluation's
    args.ungrouped = args.ungrouped or (1000 if args.which == "tick" else args.slos * args.groups)
    root = args.keep or Path(tempfile.mkdtemp(prefix="faultline-bench-groups-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        for kind in ("grouped", "grouped-before") if args.before else ("grouped",):
            write_definitions(root / kind / "definitions", args.slos, args.groups, grouped=True)
        write_definitions(
            root / "ungrouped" / "definitions", args.ungrouped, args.groups, grouped=False
        )
        print(f"# {args.which}: load average {os.getloadavg()}", flush=True)
        run = bench_tick if args.which == "tick" else bench_backfill
        for row in run(args, root):
            row["benchmark"] = args.which
        print(f"# done: load average {os.getloadavg()}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
