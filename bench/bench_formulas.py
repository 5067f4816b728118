"""What the counting queries cost Prometheus: one tick's counter queries, formula by formula.

The engine benchmark's world (the test bed's shop, one day, scraped every `--scrape-interval`
seconds at `--phase`) served by a real Prometheus; the 2,000 counter queries of a 1,000-SLO tick
(`total` and `bad` per SLO, each with a matcher of its own) asked one at a time, in rounds that
interleave the formulas so a shared machine's load falls on all of them alike:

- `as written`: `sum(rate(S[1m]))`, the engine before counts became differences of samples;
- `earlier counts`: the sample-difference count before the restart fix (`previous` three times);
- `counts`: the count as the engine asks it now.

Reports, per formula, the median over rounds of the wall time and of Prometheus' own evaluation
time (`stats=all`: `evalTotalTime`, summed over the queries), and checks that both counting
formulas give the same answers. With `--parts DAYS`, instead: one SLO's `total` over DAYS days in
10,000-step chunks (as a backfill asks), the whole count against each of its selectors alone,
to see where Prometheus spends the time. Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_formulas [--scrape-interval 15] [--rounds 3]
    PYTHONPATH=. .venv/bin/python -m bench.bench_formulas --parts 7 [--scrape-interval 60]
    PYTHONPATH=. .venv/bin/python -m bench.bench_formulas --chunk 8 [--rounds 3]

`--chunk SLOS`: one chunk of a 30-day backfill (its second: 10,000 slice ends over three
restarts and a 20-minute scrape gap), the `total` and `bad` of SLOS SLOs, asked through the
Prometheus source three ways in interleaved rounds: the counting formula, the raw samples the
source now asks for instead (`app.sources.sample_reads`), and (for comparison, without the
arithmetic) the formula's five range functions asked alone per series, no binary operations.
Reports wall seconds (answers parsed), Prometheus' evaluation seconds and the samples it touched
(`stats=all`), and whether the first two answers are equal.

Prints a JSON line; bench/RESULTS.md records it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from app.slo.counts import sample_increase
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.sources.signals import Matrix
from bench.bench_engine import SERVICES, world
from bench.bench_field import earlier_increase

FORMULAS: dict[str, Callable[[str], str]] = {
    "as written": lambda selector: f"rate({selector}[1m])",
    "earlier counts": lambda selector: earlier_increase(selector, 60),
    "counts": lambda selector: sample_increase(selector, 60),
}


def selectors(count: int) -> list[str]:
    """The selectors of `count` synthetic SLOs' `total` and `bad` (as bench_engine writes them)."""
    found = []
    for index in range(count):
        own = f'service="{SERVICES[index % len(SERVICES)]}", code!="{index}"'
        found += [f"http_requests_total{{{own}}}", f'http_requests_total{{{own}, code=~"5.."}}']
    return found


def ask_all(url: str, queries: list[str], at: int) -> tuple[float, float, list[object]]:
    """(wall seconds, Prometheus' summed evaluation seconds, answers)."""
    session = requests.Session()
    evaluated, answers = 0.0, []
    began = time.monotonic()
    for query in queries:
        params = {"query": query, "start": at, "end": at, "step": 60, "stats": "all"}
        reply = session.get(f"{url}/api/v1/query_range", params=params, timeout=60)
        reply.raise_for_status()
        data = reply.json()["data"]
        evaluated += data["stats"]["timings"]["evalTotalTime"]
        answers.append(data["result"])
    return time.monotonic() - began, evaluated, answers


def parts(selector: str) -> dict[str, str]:
    """The count and, alone, each range selector it is made of."""
    inside = "[59999ms]"
    return {
        "count": sample_increase(selector, 60),
        "fresh": f"last_over_time({selector}{inside})",
        "lowest": f"min_over_time({selector}{inside})",
        "highest": f"max_over_time({selector}{inside})",
        "resets": f"resets({selector}{inside})",
        "previous": f"last_over_time({selector}[1h] offset 1m)",
        "as written": f"rate({selector}[1m])",
    }


def ask_range(url: str, query: str, start: int, end: int) -> tuple[float, float]:
    """(wall, Prometheus evaluation) seconds of `query` from start to end in 10,000-step chunks."""
    session = requests.Session()
    evaluated, began, low = 0.0, time.monotonic(), start
    while low <= end:
        high = min(end, low + 60 * 9_999)
        params = {"query": query, "start": low, "end": high, "step": 60, "stats": "all"}
        reply = session.get(f"{url}/api/v1/query_range", params=params, timeout=120)
        reply.raise_for_status()
        evaluated += reply.json()["data"]["stats"]["timings"]["evalTotalTime"]
        low = high + 60
    return time.monotonic() - began, evaluated


def bench_parts(url: str, start: int, end: int, rounds: int) -> dict[str, object]:
    timings: dict[str, list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for name, query in parts(selectors(1)[0]).items():
            timings.setdefault(name, []).append(ask_range(url, f"sum({query})", start, end))
    return {
        name: {
            "wall": round(statistics.median(t[0] for t in runs), 3),
            "prometheus_eval": round(statistics.median(t[1] for t in runs), 3),
        }
        for name, runs in timings.items()
    }


def chunk_paths(url: str, start: int, slos: int, rounds: int) -> dict[str, object]:
    """The `--chunk` comparison (see the module)."""
    first = start + 60 + 10_000 * 60
    last = first + 9_999 * 60
    sources = {
        path: PrometheusSource(SourceConfig(url=url, timeout=120, sample_counts=samples))
        for path, samples in (("formula", False), ("raw samples", True))
    }
    asked = selectors(slos)
    walls: dict[str, list[float]] = {name: [] for name in (*sources, "range functions")}
    answers: dict[str, list[Matrix]] = {}
    for _ in range(rounds):
        for name, source in sources.items():
            began = time.monotonic()
            answers[name] = [
                source.query_matrix(f"sum({sample_increase(s, 60)})", first, last, 60)
                for s in asked
            ]
            walls[name].append(time.monotonic() - began)
        began = time.monotonic()
        for selector in asked:
            for query in list(parts(selector).values())[1:6]:
                sources["formula"].query_matrix(query, first, last, 60)
        walls["range functions"].append(time.monotonic() - began)
    stats = {name: [0.0, 0] for name in walls}
    for selector in asked:
        for name, query, instant in _stats_queries(selector, first, last):
            params = {"query": query, "stats": "all", **instant}
            path = "query" if "time" in instant else "query_range"
            reply = requests.post(f"{url}/api/v1/{path}", data=params, timeout=120)
            data = reply.json()["data"]["stats"]
            stats[name][0] += data["timings"]["evalTotalTime"]
            stats[name][1] += data["samples"]["totalQueryableSamples"]
    same = all(
        a.labels == b.labels
        and all(
            (x[0] == y[0]).all() and ((x[1] == y[1]) | ((x[1] != x[1]) & (y[1] != y[1]))).all()
            for x, y in zip(a.series, b.series, strict=True)
        )
        for a, b in zip(answers["formula"], answers["raw samples"], strict=True)
    )
    return {
        "benchmark": "one backfill chunk, side by side",
        "queries": len(asked),
        "slices": 10_000,
        "rounds": rounds,
        "wall_seconds": {n: [round(v, 2) for v in values] for n, values in walls.items()},
        "prometheus_eval_seconds": {n: round(v[0], 2) for n, v in stats.items()},
        "samples_touched": {n: v[1] for n, v in stats.items()},
        "answers_equal": same,
        "load_average": [round(v, 1) for v in os.getloadavg()],
    }


def _stats_queries(selector: str, first: int, last: int) -> list[tuple[str, str, dict[str, int]]]:
    ranged = {"start": first, "end": last, "step": 60}
    span = (last - first + 60 + 3601) * 1000
    found = [("formula", f"sum({sample_increase(selector, 60)})", ranged)]
    found += [
        ("raw samples", f"sum(count_over_time({selector}[{span}ms]))", {"time": last}),
        ("raw samples", f"{selector}[{span}ms]", {"time": last}),
    ]
    found += [("range functions", q, ranged) for q in list(parts(selector).values())[1:6]]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scrape-interval", type=int, default=15)
    parser.add_argument("--phase", type=int, default=23)
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parts", type=int, metavar="DAYS")
    parser.add_argument("--chunk", type=int, metavar="SLOS")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="faultline-formulas-"))
    try:
        server, start, end = world(args, 30 if args.chunk else args.parts or 1, root)
        try:
            if args.chunk:
                print(json.dumps(chunk_paths(server.url, start, args.chunk, args.rounds)))
                return
            if args.parts:
                figures = bench_parts(server.url, start + 3600, end, args.rounds)
                print(json.dumps({"scrape_interval": args.scrape_interval, **figures}))
                return
            walls: dict[str, list[float]] = {name: [] for name in FORMULAS}
            evals: dict[str, list[float]] = {name: [] for name in FORMULAS}
            answers: dict[str, list[object]] = {}
            for _ in range(args.rounds):
                for name, formula in FORMULAS.items():
                    queries = [f"sum({formula(selector)})" for selector in selectors(args.slos)]
                    wall, evaluated, answers[name] = ask_all(server.url, queries, end)
                    walls[name].append(wall)
                    evals[name].append(evaluated)
        finally:
            server.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "counter queries of one tick",
                "queries": 2 * args.slos,
                "scrape_interval": args.scrape_interval,
                "rounds": args.rounds,
                "wall_seconds": {n: round(statistics.median(v), 2) for n, v in walls.items()},
                "prometheus_eval_seconds": {
                    n: round(statistics.median(v), 2) for n, v in evals.items()
                },
                "counts_agree": answers["counts"] == answers["earlier counts"],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
