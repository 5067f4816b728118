"""Google's slo-generator side by side with `faultline report --json`: same SLOs, same Prometheus.

One real Prometheus (Debian package, loopback) serves 31 days of the test bed's simulated shop.
The same N events SLOs (total and 5xx requests of one service, a matcher of their own each so
Prometheus cannot answer from cache) are written for both tools; both read the same instant and
the same windows (1h, 6h, 1d, 30d). Faultline's report reads its ledger, backfilled first from
the same Prometheus (not timed here: bench_engine's backfill does that); slo-generator queries
Prometheus for every SLO and window (two instant queries each), through a small subclass of its
Prometheus backend that passes the timestamp (bench/slogen_backend.py; the stock one ignores it).

slo-generator is installed into its own virtualenv under the work directory (kept between
runs). Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_slogen [--counts 20,100] [--runs 5]
        [--work-dir /tmp/faultline-bench-slogen] [--one-slo-runs 15 [--baseline DIR]]

Both tools run as whole processes, in turn (Faultline, slo-generator, …), several times each;
medians of wall time. Per additional SLO is the slope between the smallest and largest count.
Checks that every burn rate agrees within 0.5 % and prints the largest difference; prints a JSON
line of figures with the load average before and after (bench/RESULTS.md records them).
`--one-slo-runs N` also times `report --json` of one SLO as a whole process, N times, in turn
with the `app` of `--baseline DIR` when given (`git archive main app | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from app.runtime.loading import load_definitions
from app.store.store import Store
from app.testbed.prometheus import PrometheusServer
from bench.bench_engine import QueryCounter, engine_for, world

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("checkout", "catalog", "storefront", "order-status")
WINDOWS = {"1h": 3600, "6h": 21600, "1d": 86400, "30d": 30 * 86400}
TOLERANCE = 0.005  # relative, on burn rates
DAYS = 31  # of data: the 30-day window and a day before it
SCENARIO_START = 1_709_510_400  # bench_engine.world's
TOOLS = ("faultline", "slo-generator")
Run = tuple[float, float, float]  # wall, the command's CPU, Prometheus's CPU meanwhile


def selector(index: int) -> str:
    return f'service="{SERVICES[index % len(SERVICES)]}", code!="{index}"'


def faultline_key(index: int) -> str:
    return f"bench-{index // 25:03d}/slo-{index:04d}"


def slogen_name(index: int) -> str:
    return f"bench-{index // 25:03d}-slo-{index:04d}"


def write_faultline(directory: Path, count: int) -> None:
    """`count` SLOs (files of 25), each with one failure mode counted from its own series."""
    directory.mkdir(parents=True)
    shutil.copy(REPO / "slo_definitions" / "design_choices.yaml", directory)
    for service in range((count + 24) // 25):
        lines = [f"service: bench-{service:03d}", "slos:"]
        for index in range(service * 25, min(count, (service + 1) * 25)):
            lines += [
                f"  - name: slo-{index:04d}",
                "    objective: 99.9",
                "    period: 30d",
                "    sli:",
                "      events:",
                f"        total: 'sum(rate(http_requests_total{{{selector(index)}}}[{{{{window}}}}]))'",
                f'        bad: \'sum(rate(http_requests_total{{{selector(index)}, code=~"5.."}}'
                "[{{window}}]))'",
                "    failure_modes:",
                "      - name: payment-timeout",
                "        design_choice: synchronous-call",
                "        dependency: payment-provider",
                '        bad: \'sum(rate(payment_client_requests_total{outcome="timeout"}'
                "[{{window}}]))'",
            ]
        (directory / f"bench-{service:03d}.yaml").write_text("\n".join(lines) + "\n")


def write_slogen(directory: Path, count: int, prometheus_url: str) -> Path:
    """slo-generator's shared config and `count` SLO files; returns the config's path."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    steps = "".join(
        f"      - name: {label}\n        window: {seconds}\n        burn_rate_threshold: 10\n"
        "        alert: false\n        message_alert: burning\n        message_ok: fine\n"
        for label, seconds in WINDOWS.items()
    )
    config = directory / "config.yaml"
    config.write_text(
        "backends:\n"
        f"  slogen_backend.TimedPrometheusBackend:\n    url: {prometheus_url}\n"
        f"error_budget_policies:\n  default:\n    steps:\n{steps}"
    )
    slos = directory / "slos"
    slos.mkdir()
    for index in range(count):
        (slos / f"{slogen_name(index)}.yaml").write_text(
            "apiVersion: sre.google.com/v2\nkind: ServiceLevelObjective\n"
            f"metadata:\n  name: {slogen_name(index)}\n"
            f"  labels: {{service_name: bench-{index // 25:03d}, slo_name: slo-{index:04d}}}\n"
            "spec:\n  description: bench\n  backend: slogen_backend.TimedPrometheusBackend\n"
            "  method: good_bad_ratio\n  goal: 0.999\n  error_budget_policy: default\n"
            "  service_level_indicator:\n"
            f"    filter_good: 'http_requests_total{{{selector(index)}, code!~\"5..\"}}'\n"
            f"    filter_valid: 'http_requests_total{{{selector(index)}}}'\n"
        )
    return config


def slogen_venv(work: Path) -> Path:
    """slo-generator's own virtualenv (made once, kept in the work directory)."""
    venv = work / "slogen-venv"
    if not (venv / "bin" / "slo-generator").exists():
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [venv / "bin" / "pip", "install", "-q", "slo-generator[prometheus]", "setuptools<70"],
            check=True,
        )
    return venv


def process_cpu(pid: int) -> float:
    """CPU seconds a running process has used so far (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], environment: dict[str, str], prometheus_pid: int) -> tuple[Run, str]:
    """(wall, the command's CPU, Prometheus's CPU meanwhile) and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    prometheus = process_cpu(prometheus_pid)
    began = time.perf_counter()
    finished = subprocess.run(
        command, env=environment, cwd=REPO, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return (seconds, cpu, process_cpu(prometheus_pid) - prometheus), finished.stdout


def largest_difference(report: dict[str, object], reference: dict[str, dict[str, float | None]]):
    """(largest relative difference of any burn rate, where, values compared)."""
    worst: tuple[float, str] = (0.0, "")
    compared = 0
    for item in report["slos"]:  # type: ignore[attr-defined]
        index = int(item["slo"].split("-")[1])
        theirs = reference[slogen_name(index)]
        ours = dict(item["burn_rates"], **{"30d": item["budget"]["consumed"]})
        for label, seconds in WINDOWS.items():
            mine, other = ours[label], theirs[str(seconds)]
            if mine is None or other is None:
                raise SystemExit(
                    f"{item['key']} {label}: no figure (faultline {mine}, slo-gen {other})"
                )
            difference = abs(mine - other) / max(abs(other), 1e-9) if mine != other else 0.0
            compared += 1
            worst = max(worst, (difference, f"{item['key']} {label}: {mine} vs {other}"))
    return worst[0], worst[1], compared


def prepared(work: Path, count: int, fresh: bool) -> tuple[Path, int]:
    """The data directory (31 days of the shop in a TSDB, Faultline's definitions and its
    ledger backfilled over 30 days) and the report instant; kept in the work directory and
    reused by later runs unless `fresh` (building it takes minutes: the backfill)."""
    root = work / f"data-{count}"
    at = SCENARIO_START + DAYS * 86400 - 3600
    if (root / "ready").exists() and not fresh:
        # A ledger kept from an older version gets the newer migrations (reports never migrate).
        Store(f"sqlite:///{root}/ledger.db").open().close()
        return root, at
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    server, _, end = world(argparse.Namespace(scrape_interval=60, phase=0), DAYS, root)
    try:
        assert end - 3600 == at, (end, at)
        write_faultline(root / "faultline", count)
        loaded = load_definitions(root / "faultline", alerts=REPO / "alerts")
        assert not loaded.problems, loaded.problems
        began = time.monotonic()
        engine = engine_for(
            server.url, f"sqlite:///{root}/ledger.db", loaded.definitions, at,
            WINDOWS["30d"], QueryCounter(), 4,
        )  # fmt: skip
        result = engine.tick(now=at)
        assert not result.errors and result.unavailable is None, result
        engine.store.close()
        print(f"# ledger backfilled in {time.monotonic() - began:.0f}s", flush=True)
    finally:
        server.close()
    (root / "ready").write_text("")
    return root, at


def measure(
    commands: dict[int, tuple[list[str], list[str]]],
    environments: tuple[dict[str, str], dict[str, str]],
    runs: int,
    prometheus_pid: int,
) -> tuple[dict[str, dict[int, list[Run]]], dict[int, str]]:
    """Each command `runs` times after one warm-up, the two tools in turn."""
    figures: dict[str, dict[int, list[Run]]] = {tool: {} for tool in TOOLS}
    outputs: dict[int, str] = {}
    for run in range(runs + 1):
        for count, pair in commands.items():
            for tool, command, environment in zip(TOOLS, pair, environments, strict=True):
                measured, output = timed(command, environment, prometheus_pid)
                if tool == "faultline":
                    outputs[count] = output
                if run:
                    figures[tool].setdefault(count, []).append(measured)
    return figures, outputs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", default="20,100")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/faultline-bench-slogen"))
    parser.add_argument("--fresh", action="store_true", help="rebuild the data and the ledger")
    parser.add_argument(
        "--one-slo-runs", type=int, default=0, help="also time `report --json` of one SLO"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a directory with another version's `app` (git archive REV app | tar -x -C DIR): "
        "its one-SLO report is timed in turn",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    counts = sorted(int(count) for count in args.counts.split(","))
    args.work_dir.mkdir(parents=True, exist_ok=True)
    venv = slogen_venv(args.work_dir)
    # Bytecode as an installed package has it (this environment may forbid writing it).
    for version in (REPO, *([args.baseline] if args.baseline else [])):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(version / "app")], check=True)
    root, at = prepared(args.work_dir, counts[-1], args.fresh)
    server = PrometheusServer(root / "tsdb", work_dir=root / "prometheus")
    server.start()
    try:
        database = f"sqlite:///{root}/ledger.db"
        commands: dict[int, tuple[list[str], list[str]]] = {}
        for count in counts:
            config = write_slogen(root / f"slogen-{count}", count, server.url)
            selected = [part for i in range(count) for part in ("--slo", faultline_key(i))]
            commands[count] = (
                [str(REPO / ".venv/bin/faultline"), "report", "--json", "--at", str(at),
                 "--definitions", str(root / "faultline"), "--database-url", database, *selected],
                [str(venv / "bin/slo-generator"), "compute", "-f", str(config.parent / "slos"),
                 "-c", str(config), "-t", str(at)],
            )  # fmt: skip
        environments = (
            dict(os.environ, FAULTLINE_PROMETHEUS_URL=server.url),
            dict(os.environ, PYTHONPATH=str(REPO / "bench")),
        )
        assert server.pid is not None
        figures, outputs = measure(commands, environments, args.runs, server.pid)
        largest = counts[-1]
        reference = json.loads(
            timed(
                [str(venv / "bin/python"), str(REPO / "bench/slogen_backend.py"),
                 str(root / f"slogen-{largest}" / "slos"),
                 str(root / f"slogen-{largest}" / "config.yaml"), str(at)],
                environments[1], server.pid,
            )[1]
        )  # fmt: skip
        difference, where, compared = largest_difference(json.loads(outputs[largest]), reference)
        single = [*commands[counts[0]][0][: -2 * counts[0]], "--slo", faultline_key(0)]
        one = one_slo(single, environments[0], args.one_slo_runs, args.baseline, server.pid)
    finally:
        server.close()
    summary = summarize(figures, counts)
    summary.update(
        runs=args.runs,
        windows=list(WINDOWS),
        burn_rates_compared=compared,
        max_burn_rate_difference=difference,
        max_difference_at=where,
        one_slo_report=one,
        load_average_before=load_before,
        load_average_after=os.getloadavg(),
    )
    print(json.dumps(summary), flush=True)
    if difference > TOLERANCE:
        raise SystemExit(f"burn rates differ by {difference:.3%} (> 0.5 %): {where}")


def one_slo(
    command: list[str],
    environment: dict[str, str],
    runs: int,
    baseline: Path | None,
    prometheus_pid: int,
) -> dict[str, dict[str, float]]:
    """`report --json` of one SLO as a whole process, `runs` times after a warm-up; in turn
    with the version in `baseline` (first on PYTHONPATH) when given. Medians and minima."""
    versions = {"faultline": environment}
    if baseline is not None:
        versions["baseline"] = dict(environment, PYTHONPATH=str(baseline))
    measured: dict[str, list[Run]] = {name: [] for name in versions}
    for run in range(runs + 1 if runs else 0):
        for name, version in versions.items():
            figure, _ = timed(command, version, prometheus_pid)
            if run:
                measured[name].append(figure)
    return {
        name: {
            "wall_median_s": round(statistics.median(f[0] for f in figures), 3),
            "wall_min_s": round(min(f[0] for f in figures), 3),
            "cpu_median_s": round(statistics.median(f[1] for f in figures), 3),
        }
        for name, figures in measured.items()
        if figures
    }


def summarize(figures: dict[str, dict[int, list[Run]]], counts: list[int]) -> dict[str, object]:
    """Medians per tool and count; per additional SLO: the slope between the end counts."""
    low, high = counts[0], counts[-1]
    summary: dict[str, object] = {"benchmark": "slo-generator side by side"}
    for index, figure in enumerate(("wall_s", "cpu_s", "prometheus_cpu_s")):
        medians = {
            tool: {
                count: statistics.median(run[index] for run in runs) for count, runs in per.items()
            }
            for tool, per in figures.items()
        }
        slopes = {tool: (per[high] - per[low]) / (high - low) for tool, per in medians.items()}
        summary[figure] = {
            tool: {str(count): round(value, 3) for count, value in per.items()}
            for tool, per in medians.items()
        }
        summary[f"{figure}_per_additional_slo_ms"] = {
            tool: round(value * 1000, 2) for tool, value in slopes.items()
        }
    wall = summary["wall_s"]
    cpu = {
        tool: {
            count: statistics.median(run[1] + run[2] for run in runs) for count, runs in per.items()
        }
        for tool, per in figures.items()
    }
    slope = {tool: (per[high] - per[low]) / (high - low) for tool, per in cpu.items()}
    summary["ratios (slo-generator / faultline)"] = {
        "wall per additional SLO": _ratio(summary["wall_s_per_additional_slo_ms"]),
        f"wall at {high}": _ratio({t: v[str(high)] for t, v in wall.items()}),  # type: ignore[attr-defined]
        "cpu incl. Prometheus per additional SLO": round(
            slope["slo-generator"] / slope["faultline"], 1
        ),
        f"cpu incl. Prometheus at {high}": round(
            cpu["slo-generator"][high] / cpu["faultline"][high], 1
        ),
    }
    return summary


def _ratio(values: object) -> float:
    pair = dict(values)  # type: ignore[call-overload]
    return round(pair["slo-generator"] / pair["faultline"], 1)


if __name__ == "__main__":
    main()
