"""Engine benchmarks: one tick of 1,000 SLOs × 3 failure modes, and a 30-day backfill of 100 SLOs.

Both run against a real Prometheus (Debian package) on loopback over the test bed's simulated
shop, on this machine's 2 cores (Prometheus included). Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_engine tick [--slos 1000] [--history-days 30]
    PYTHONPATH=. .venv/bin/python -m bench.bench_engine backfill [--slos 100] [--days 30]

`--scrape-interval 15 --phase 23` samples the shop every 15 s, 23 s after the minute (default:
every 60 s, on the minute). `--previous-method` asks windowed rates as written (the engine before
counts became differences of samples), `--earlier-counts` the counting formula before the
restart fix (its `previous` selector three times), for comparison. `--per-slice` runs the
per-slice path of before (bench/per_slice.py) instead of the column-wise one; `tick --compare`
runs ticks with both, alternating, in one run; `--against writes-alone|queries-alone|
periods-summed` alternates instead with the tick of today less one of its changes (no group
commit, every query alone, every period summed again). `--history-days 30 --ledger-copy FILE`
fills a 30-day ledger once into FILE and copies it in later runs.

`backfill` also asks the backfill's range queries again, through the same client, over the same
chunks and threads, without evaluating or writing anything: the raw query time, and the ratio of
the backfill to it.

Prints a JSON line of figures; bench/RESULTS.md records them.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

from app.engine.evaluate import planned_reads
from app.engine.group_writes import GroupWrites
from app.engine.service import Engine, EngineConfig
from app.runtime.loading import load_definitions
from app.slo.chunk import ChunkEvaluator
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.spec import SLOSpec
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.sources.shared_reads import SharedReads
from app.sources.signals import SignalSource
from app.store import rollup_reads
from app.store.hour_sums import HourSums
from app.store.rollups import LEVELS
from app.store.store import Store
from app.testbed.dataset import generate
from app.testbed.prometheus import PrometheusServer
from app.testbed.scenarios import demo_history
from app.testbed.tsdb import build_tsdb
from bench.bench_api import fill_ledger
from bench.bench_field import earlier_counts, previous_method
from bench.per_slice import per_slice_path

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("checkout", "catalog", "storefront", "order-status")


def synthetic_slos(count: int) -> DefinitionSet:
    """`count` SLOs, each an events SLI with three failure modes (two `bad`, one `when`)."""
    shipped = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts").definitions
    definitions = []
    for index in range(count):
        service = SERVICES[index % len(SERVICES)]
        # A different (always true) matcher per SLO keeps Prometheus from answering from cache.
        selector = f'service="{service}", code!="{index}"'
        spec = SLOSpec.model_validate(
            {
                "name": f"slo-{index:04d}",
                "objective": 99.9,
                "period": "30d",
                "sli": {
                    "events": {
                        "total": f"sum(rate(http_requests_total{{{selector}}}[{{{{window}}}}]))",
                        "bad": f'sum(rate(http_requests_total{{{selector}, code=~"5.."}}[{{{{window}}}}]))',
                    }
                },
                "failure_modes": [
                    {
                        "name": "payment-timeout",
                        "design_choice": "synchronous-call",
                        "dependency": "payment-provider",
                        "bad": 'sum(rate(payment_client_requests_total{outcome="timeout"}[{{window}}]))',
                    },
                    {
                        "name": "replication-conflicts",
                        "design_choice": "multi-region",
                        "dependency": "cart-replication",
                        "bad": "sum(rate(storefront_replication_conflicts_total[{{window}}]))",
                    },
                    {
                        "name": "orders-backlog",
                        "design_choice": "queue",
                        "dependency": "orders-queue",
                        "when": "max(aws_sqs_approximate_age_of_oldest_message_maximum) > 300",
                    },
                ],
            }
        )
        definitions.append(SLODefinition(service=f"bench-{index // 25:03d}", spec=spec))
    return DefinitionSet(slos=tuple(definitions), catalog=shipped.catalog, alerts=shipped.alerts)


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self._lock = threading.Lock()

    def __call__(self, seconds: float, outcome: str) -> None:
        with self._lock:
            self.count += 1
            self.seconds += seconds


def world(args: argparse.Namespace, days: int, root: Path) -> tuple[PrometheusServer, int, int]:
    started = time.monotonic()
    end = 1_709_510_400 + days * 86400
    scenario = demo_history(end - days * 86400, days * 1440).scenario
    scenario = replace(scenario, interval=args.scrape_interval, phase=args.phase)
    build_tsdb(generate(scenario), root / "tsdb", work_dir=root)
    server = PrometheusServer(root / "tsdb", work_dir=root / "prometheus")
    server.start()
    print(f"# data ready in {time.monotonic() - started:.1f}s", flush=True)
    return server, scenario.start, scenario.end


def engine_for(
    url: str,
    database: str,
    definitions: DefinitionSet,
    clock: int,
    span: int,
    counter: QueryCounter,
    concurrency: int,
    sample_counts: bool = True,
) -> Engine:
    asked = SourceConfig(url=url, concurrency=concurrency, sample_counts=sample_counts)
    source = PrometheusSource(asked, observer=counter)
    config = EngineConfig(evaluation_delay=0, initial_backfill=span, concurrency=concurrency)
    now = {"t": clock}
    engine = Engine(Store(database).open(), source, definitions, config, clock=lambda: now["t"])
    engine.sync()
    return engine


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_tick(args: argparse.Namespace, root: Path) -> dict[str, object]:
    server, _, end = world(args, 1, root)
    try:
        definitions = synthetic_slos(args.slos)
        counter = QueryCounter()
        database = args.database_url or f"sqlite:///{root}/ledger.db"
        # Warm-up: an hour of history for every SLO (or, with --history-days, a ledger written
        # straight into SQLite so status snapshots sum a full period), then measure the
        # steady-state tick that evaluates one new slice per SLO (what runs every minute).
        # With --compare, four measured ticks alternate the paths (column-wise, per-slice,
        # per-slice, column-wise), one minute apart; otherwise one.
        measured = 4 * args.rounds if args.compare else 1
        # --minutes-before-hour: where in the hour the measured ticks fall (the last ends that
        # many minutes before an hour); by default at its end.
        first_tick = end - 60 * (measured + args.minutes_before_hour)
        engine = engine_for(
            server.url, database, definitions, first_tick - 60, 3600, counter, args.concurrency
        )
        if args.history_days:
            if engine.store.dialect != "sqlite":
                raise SystemExit("--history-days writes the ledger with SQLite only")
            ids = sorted(slo.id for slo in engine.stored_slos().values())
            began = time.monotonic()
            kept = args.ledger_copy
            if kept is not None and kept.exists():
                engine.store.close()  # the same SLOs, ids and times: the filled file's copy
                for suffix in ("-wal", "-shm"):
                    (root / f"ledger.db{suffix}").unlink(missing_ok=True)
                shutil.copyfile(kept, root / "ledger.db")
                engine = engine_for(
                    server.url, database, definitions, first_tick - 60, 3600, counter,
                    args.concurrency,
                )  # fmt: skip
                print(f"# ledger copied in {time.monotonic() - began:.0f}s", flush=True)
            else:
                fill_ledger(root / "ledger.db", ids, first_tick - 60, args.history_days)
                print(f"# ledger filled in {time.monotonic() - began:.0f}s", flush=True)
                if kept is not None:
                    shutil.copyfile(root / "ledger.db", kept)
        warm = time.monotonic()
        engine.tick(now=first_tick - 60)
        warm_seconds = time.monotonic() - warm
        for definition in engine.definitions.slos:
            # Queries are rendered once per process (cached): as every tick after the first.
            planned_reads(engine.source, definition, first_tick, first_tick)
        other = args.against
        paths = (["column-wise", other, other, "column-wise"] * args.rounds)[:measured]
        if args.per_slice and not args.compare:
            paths = ["per-slice"]
        times: dict[str, list[float]] = {}
        for index, path in enumerate(paths):
            counter.count, counter.seconds = 0, 0.0
            profiles: list[cProfile.Profile] = []
            with contextlib.ExitStack() as stack:
                if path != "column-wise":
                    stack.enter_context(ALTERNATIVES[path]())
                if args.profile:
                    stack.enter_context(profiled_threads(profiles))
                began = time.monotonic()
                result = engine.tick(now=first_tick + 60 * index)
                seconds = time.monotonic() - began
            assert not result.errors and result.unavailable is None, result
            assert all(count == 1 for count in result.evaluated.values()), result.evaluated
            # Every SLO one new slice (a ledger copy filled for other tick times would leave
            # nothing to evaluate: a tick of status snapshots only).
            assert len(result.evaluated) == args.slos, len(result.evaluated)
            times.setdefault(path, []).append(round(seconds, 2))
            print(f"# tick {index + 1}: {path} {seconds:.2f}s", flush=True)
        figures: dict[str, object] = {
            "benchmark": "tick",
            "slos": args.slos,
            "failure_modes_per_slo": 3,
            "tick_seconds": round(seconds, 2) if not args.compare else None,
            "tick_seconds_by_path": times,
            "prometheus_queries": counter.count,
            "query_seconds_summed": round(counter.seconds, 2),
            "ledger_days_before_tick": args.history_days or round(1 / 24, 3),
            "warmup_tick_seconds": round(warm_seconds, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "database": engine.store.dialect,
            "scrape_interval": args.scrape_interval,
        }
        if profiles:
            out = io.StringIO()
            stats = pstats.Stats(*profiles, stream=out)  # type: ignore[arg-type]
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
            print(out.getvalue())
        engine.store.close()
        return figures
    finally:
        server.close()


@contextlib.contextmanager
def profiled_threads(profiles: list[cProfile.Profile]) -> Iterator[None]:
    """Every thread started meanwhile (the tick's evaluation threads) and this one profiled,
    each in its own profile (cProfile sees one thread); `--concurrency 1` keeps the times
    free of waits for the interpreter lock."""
    lock = threading.Lock()

    def start(*_: object) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        threading.setprofile(None)
        sys.setprofile(None)
        profile.enable()

    own = cProfile.Profile()
    profiles.append(own)
    threading.setprofile(start)
    own.enable()
    try:
        yield
    finally:
        own.disable()
        threading.setprofile(None)


def _write_alone(writes: GroupWrites, work: Callable[[Any], None]) -> None:
    """Each SLO's chunk in a write transaction of its own (no group commit)."""
    with writes.store.begin() as connection:
        work(connection)


def _summed_again(hours: HourSums, connection: Any, marks: Any, windows: Any) -> Any:
    """Status snapshots sum every window's whole hours again (no kept sums)."""
    return rollup_reads.summed_many(connection, list(marks), LEVELS[0], windows)


def _without(owner: type, name: str, replacement: Callable[..., Any]) -> Callable[[], Any]:
    """Today's tick less one change: `owner.name` replaced while the context is open."""
    return lambda: mock.patch.object(owner, name, replacement)


ALTERNATIVES: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "per-slice": per_slice_path,
    "writes-alone": _without(GroupWrites, "write", _write_alone),
    # Each query its own request (nothing asked ahead in batches).
    "queries-alone": _without(SharedReads, "prefetch", lambda *args: None),
    "periods-summed": _without(HourSums, "summed", _summed_again),
}


def bench_backfill(args: argparse.Namespace, root: Path) -> dict[str, object]:
    server, start, end = world(args, args.days, root)
    try:
        definitions = synthetic_slos(args.slos)
        counter = QueryCounter()
        database = args.database_url or f"sqlite:///{root}/ledger.db"
        engine = engine_for(
            server.url, database, definitions, end, end - start, counter, args.concurrency,
            sample_counts=not args.formula,
        )  # fmt: skip
        load_before = os.getloadavg()
        profile = cProfile.Profile() if args.profile else None
        began = time.monotonic()
        if profile:
            profile.enable()
        result = engine.tick(now=end)
        if profile:
            profile.disable()
        seconds = time.monotonic() - began
        assert not result.errors and result.unavailable is None, result
        slices = sum(result.evaluated.values())
        rss = peak_rss_mb()
        queries, query_seconds = counter.count, counter.seconds
        load_after = os.getloadavg()
        # A new client for each pass, as the backfill's was: nothing learnt by the backfill
        # (how dense each selector's samples are) spares the raw pass a request.
        config = engine.source.config  # type: ignore[attr-defined]
        raw = [
            raw_queries(engine, end, args.concurrency, PrometheusSource(config))
            for _ in range(args.raw_runs)
        ]
        raw_seconds = sum(raw) / len(raw)
        # Main's path beside it: the raw queries asked as the counting formula, alternating.
        sides: dict[str, list[float]] = {"samples": [], "formula": []}
        for index in range(2 * args.raw_compare):
            path = ("samples", "formula", "formula", "samples")[index % 4]
            source = PrometheusSource(SourceConfig(url=server.url, sample_counts=path == "samples"))
            sides[path].append(round(raw_queries(engine, end, args.concurrency, source), 1))
        engine.store.close()
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
            print(out.getvalue())
        return {
            "benchmark": "backfill",
            "slos": args.slos,
            "days": args.days,
            "slices": slices,
            "seconds": round(seconds, 1),
            "raw_query_seconds": round(raw_seconds, 1),
            "raw_query_runs": [round(value, 1) for value in raw],
            "ratio": round(seconds / raw_seconds, 2),
            "slices_per_second": round(slices / seconds),
            "prometheus_queries": queries,
            "query_seconds_summed": round(query_seconds, 1),
            "peak_rss_mb": round(rss, 1),
            "database": "sqlite" if database.startswith("sqlite") else "postgresql",
            "scrape_interval": args.scrape_interval,
            "counts": "counting formula" if args.formula else "raw samples",
            "raw_query_seconds_by_path": sides if args.raw_compare else None,
            "load_average_before_after": [round(load_before[0], 1), round(load_after[0], 1)],
        }
    finally:
        server.close()


def raw_queries(
    engine: Engine, end: int, concurrency: int, source: SignalSource | None = None
) -> float:
    """Seconds to ask the backfill's range queries again, as the backfill asks them (same
    client, chunks, shared reads and threads), evaluating and writing nothing; through
    `source` if given (the engine's otherwise)."""
    reads = SharedReads(source or engine.source)

    def ask(definition: SLODefinition) -> None:
        step = definition.spec.slice_seconds
        due = engine.due(definition, end)
        signals = ChunkEvaluator(definition.spec).signals
        queries = {
            key: signal.render(step, closed_ranges=reads.closed_ranges)
            for key, signal in signals.items()
        }
        for first, last in reads.chunks(engine.initial_start(definition, due), due, step):
            reads.read(queries, first, last, step)

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(ask, engine.definitions.slos))
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=["tick", "backfill"])
    parser.add_argument("--slos", type=int)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--history-days", type=int, default=0, help="tick: ledger days present before the tick"
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--scrape-interval", type=int, default=60)
    parser.add_argument("--phase", type=int, default=0)
    parser.add_argument("--previous-method", action="store_true")
    parser.add_argument(
        "--earlier-counts", action="store_true", help="the counting formula before the restart fix"
    )
    parser.add_argument("--per-slice", action="store_true", help="the per-slice path of before")
    parser.add_argument("--compare", action="store_true", help="tick: both paths, alternating")
    parser.add_argument(
        "--against",
        choices=sorted(ALTERNATIVES),
        default="per-slice",
        help="tick --compare: the path to alternate with (one change of the tick undone)",
    )
    parser.add_argument("--raw-runs", type=int, default=1, help="backfill: raw query passes")
    parser.add_argument(
        "--raw-compare",
        type=int,
        default=0,
        metavar="PAIRS",
        help="backfill: raw query passes of both paths (raw samples, counting formula), "
        "alternating, PAIRS of each",
    )
    parser.add_argument(
        "--formula",
        action="store_true",
        help="backfill: counts asked as the counting formula over every range (main's path "
        "before raw samples)",
    )
    parser.add_argument(
        "--minutes-before-hour",
        type=int,
        default=0,
        help="tick: where the measured ticks end (a --ledger-copy is filled for one placement)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="tick --compare: rounds of four alternating ticks"
    )
    parser.add_argument(
        "--ledger-copy",
        type=Path,
        help="tick --history-days: copy this filled ledger (same --slos and days) instead of "
        "filling one; fill it once when missing",
    )
    args = parser.parse_args()
    args.slos = args.slos or (1000 if args.which == "tick" else 100)
    root = Path(tempfile.mkdtemp(prefix="faultline-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            if args.previous_method:
                stack.enter_context(previous_method())
            elif args.earlier_counts:
                stack.enter_context(earlier_counts())
            if args.per_slice:
                stack.enter_context(per_slice_path())
            run = bench_tick if args.which == "tick" else bench_backfill
            figures = run(args, root)
        figures["method"] = (
            "previous"
            if args.previous_method
            else "earlier sample differences"
            if args.earlier_counts
            else "sample differences"
        )
        figures["path"] = "per-slice" if args.per_slice else "column-wise"
        print(json.dumps(figures), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
