"""One counter, events at random instants, scraped at some phase with jitter: how far from the
true number of events do `increase(x[W])` per slice and the sample-difference count land?

Unlike the test bed (whose truth counts an event at the sample that first shows it), the truth
here is the events' own times, so the figures include what no sample can tell: where inside a
scrape interval an event happened, which moves events across a window's edges. The counter
restarts once (right after a scrape) and misses 15 minutes of scrapes. Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_counts [--intervals 10 15 30 60] [--phase 41]

Prints a Markdown table; bench/RESULTS.md records it.
"""

from __future__ import annotations

import argparse
import bisect
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests

from app.slo.counts import rewrite
from app.testbed.prometheus import PrometheusServer, find_binary

START = 1_709_510_400
HOURS = 6
RATE = 5.0  # events per second


def series(interval: int, phase: int, seed: int = 1) -> tuple[list[float], list[float], str]:
    """(event times, scrape times kept, OpenMetrics text)."""
    rng = random.Random(seed)
    end = START + HOURS * 3600
    scrapes = [round(t + rng.uniform(-1, 1), 3) for t in range(START + phase, end + 1, interval)]
    events: list[float] = []
    moment = float(START)
    while moment < end:
        moment += rng.expovariate(RATE)
        events.append(moment)
    restart = scrapes[len(scrapes) // 3]
    gap = (START + 4 * 3600, START + 4 * 3600 + 900)
    lines, base, kept = ["# TYPE x counter"], 0, []
    for scrape in scrapes:
        seen = bisect.bisect_right(events, scrape)
        if not gap[0] < scrape < gap[1]:
            lines.append(f'x_total{{a="1"}} {seen - base} {scrape}')
            kept.append(scrape)
        if scrape == restart:
            base = seen
    lines.append("# EOF")
    return events, kept, "\n".join(lines) + "\n"


def query(url: str, expr: str, start: int, end: int, step: int) -> dict[int, float]:
    answer = requests.get(
        f"{url}/api/v1/query_range",
        params={"query": expr, "start": start, "end": end, "step": step},
        timeout=60,
    ).json()["data"]["result"]
    return {int(t): float(v) for t, v in answer[0]["values"]} if answer else {}


def measure(interval: int, phase: int, window: int, root: Path) -> dict[str, float]:
    events, _, text = series(interval, phase)
    source = root / "x.om"
    source.write_text(text)
    data = root / f"data-{interval}-{window}"
    promtool = find_binary("promtool")
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        check=True,
        capture_output=True,
    )
    first, last = START + 3600, START + HOURS * 3600

    def truth(a: float, b: float) -> int:
        return bisect.bisect_right(events, b) - bisect.bisect_right(events, a)

    with PrometheusServer(data, work_dir=root / f"prometheus-{interval}-{window}") as server:
        old = query(server.url, f"sum(increase(x_total[{window}s]))", first, last, window)
        new = query(
            server.url,
            rewrite("sum(increase(x_total[{{window}}]))", window).query,
            first,
            last,
            window,
        )
    whole = truth(first - window, last)
    hours = [(START + h * 3600, START + (h + 1) * 3600) for h in range(2, HOURS)]

    def worst_hour(counts: dict[int, float]) -> float:
        return max(
            abs(sum(v for t, v in counts.items() if a < t <= b) - truth(a, b)) / truth(a, b)
            for a, b in hours
        )

    return {
        "old_whole": (sum(old.values()) - whole) / whole,
        "new_whole": (sum(new.values()) - whole) / whole,
        "old_hour": worst_hour(old),
        "new_hour": worst_hour(new),
        "old_slices": len(old),
        "new_slices": len(new),
        "slices": (last - first) // window + 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--intervals", nargs="+", type=int, default=[10, 15, 30, 60])
    parser.add_argument("--phase", type=int, default=41)
    parser.add_argument("--window", type=int, default=60)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="faultline-counts-"))
    print(
        "| Scrape | `increase()` per slice: 5 h total / worst hour / slices with data "
        "| Sample differences: 5 h total / worst hour / slices with data |"
    )
    print("|---|---|---|")
    try:
        for interval in args.intervals:
            m = measure(interval, args.phase % max(interval, 60), args.window, root)
            print(
                f"| {interval} s | {m['old_whole']:+.2%} / {m['old_hour']:.2%} / "
                f"{m['old_slices']:.0f} of {m['slices']:.0f} | {m['new_whole']:+.3%} / "
                f"{m['new_hour']:.3%} / {m['new_slices']:.0f} of {m['slices']:.0f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
