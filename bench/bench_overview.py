"""First render of the overview with 200 SLOs in headless Chromium.

Builds 200 SLO definitions (40 services × 5 SLOs, two failure modes each, 30-day periods) and a
ledger for them directly in a SQLite store: 30 days of 15-minute slices with a steady error rate,
failure-mode credit and a few burn episodes, then the status snapshots the engine keeps. No
Prometheus is involved: the overview reads only the ledger.

Measured: navigation start → the overview table holds all 200 rows (from a MutationObserver in
the page, so Selenium's polling adds nothing). Cold: the browser's cache cleared first, so every
script is fetched and compiled again (a first visit). Warm: scripts cached, as for anyone who
has opened the page before. Runs alternate cold and warm in one browser.

    .venv/bin/python bench/bench_overview.py [--runs 7] [--slos 200]

The ledger is cached under bench/data/ (gitignored); delete it to rebuild.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.engine.service import Engine, EngineConfig  # noqa: E402
from app.runtime.loading import load_definitions  # noqa: E402
from app.slo.definitions import DefinitionSet  # noqa: E402
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus  # noqa: E402
from app.sources.prometheus import PrometheusSource, SourceConfig  # noqa: E402
from app.store import ledger, registry  # noqa: E402
from app.store.store import Store  # noqa: E402
from tests.web.harness import chromium, settings_for, start_faultline  # noqa: E402

END = 1_709_510_400 + 30 * 86400  # 2024-04-03 00:00 UTC
SLICE = 900
DAYS = 30
DATA = REPO / "bench" / "data"
CHOICES = ("queue", "cache", "read-replica", "synchronous-call", "event-projection")

MARK_JS = """
window.__rendered = null;
new MutationObserver((_, observer) => {
    const rows = document.querySelectorAll('#overview-table tr.slo-row').length;
    if (rows === %d && window.__rendered === null) {
        window.__rendered = performance.now();
        observer.disconnect();
    }
}).observe(document, {childList: true, subtree: true});
"""


def write_definitions(root: Path, count: int) -> Path:
    """`count` SLOs in files of five, with the shipped catalog and alert policies."""
    definitions = root / "slo_definitions"
    definitions.mkdir(parents=True)
    shutil.copy(REPO / "slo_definitions" / "design_choices.yaml", definitions)
    shutil.copytree(REPO / "alerts", root / "alerts", ignore=shutil.ignore_patterns("prometheus"))
    for service_index in range(count // 5):
        service = f"svc-{service_index:03d}"
        lines = [f"service: {service}", f"labels: {{team: team-{service_index % 8}}}", "slos:"]
        for slo_index in range(5):
            metric = f'http_requests_total{{service="{service}", route="r{slo_index}"'
            lines += [
                f"  - name: requests-{slo_index}",
                "    objective: 99.9",
                "    period: 30d",
                "    slice: 15m",
                "    sli:",
                "      events:",
                f"        total: sum(rate({metric}}}[{{{{window}}}}]))",
                f'        bad: sum(rate({metric}, code=~"5.."}}[{{{{window}}}}]))',
                "    failure_modes:",
            ]
            for mode_index in range(2):
                choice = CHOICES[(service_index + slo_index + mode_index) % len(CHOICES)]
                lines += [
                    f"      - name: mode-{mode_index}",
                    f"        design_choice: {choice}",
                    f"        dependency: dep-{(service_index + mode_index) % 12}",
                    f'        bad: sum(rate(failures_total{{service="{service}", '
                    f'mode="m{mode_index}"}}[{{{{window}}}}]))',
                ]
        (definitions / f"{service}.yaml").write_text("\n".join(lines) + "\n")
    return definitions


def load(root: Path) -> DefinitionSet:
    loaded = load_definitions(root / "slo_definitions", alerts=root / "alerts")
    assert loaded.ok, loaded.problems[:5]
    return loaded.definitions


def slices_for(seed: int) -> list[SliceRecord]:
    """30 days of traffic: a steady error rate and, for some SLOs, a burn episode."""
    rng = random.Random(seed)
    rate = rng.uniform(0.0, 0.0012)
    burst_start = rng.randrange(0, DAYS * 96 - 24) if seed % 3 == 0 else -1
    out = []
    for i in range(DAYS * 96):
        t = END - (DAYS * 96 - 1 - i) * SLICE
        total = float(rng.randint(800, 1200))
        ratio = rate * 8 if 0 <= i - burst_start < 12 else rate
        bad = float(round(total * ratio * rng.uniform(0.5, 1.5)))
        first = float(round(bad * 0.6))
        second = float(round((bad - first) * 0.5))
        modes = {"mode-0": ModeSlice(credited=first), "mode-1": ModeSlice(credited=second)}
        out.append(
            SliceRecord(t, SliceStatus.OK, total, bad, bad - first - second, modes, total, bad)
        )
    return out


def build_ledger(root: Path, count: int) -> str:
    definitions = load(root)
    url = f"sqlite:///{root / 'ledger.db'}"
    store = Store(url).open()
    with store.begin() as connection:
        registry.sync_definitions(connection, definitions.slos, END)
    stored = {slo.key: slo for slo in registry_slos(store)}
    for index, definition in enumerate(definitions.slos):
        records = slices_for(index)
        with store.begin() as connection:
            ledger.write_slices(connection, stored[definition.key].id, records, SLICE)
            registry.set_checkpoint(connection, stored[definition.key].id, END)
            registry.record_success(connection, stored[definition.key].id, END)
    engine = Engine(store, unused_source(), definitions, EngineConfig(), clock=lambda: END)
    engine.refresh_statuses(END + 60, definitions.slos)
    store.close()
    return url


def registry_slos(store: Store) -> list[registry.StoredSLO]:
    with store.read() as connection:
        return registry.list_slos(connection)


def unused_source() -> PrometheusSource:
    """The overview never queries Prometheus; nothing listens here."""
    return PrometheusSource(SourceConfig(url="http://127.0.0.1:9"))


def schema_version() -> str:
    """The store's migrations: a cached ledger from another schema is rebuilt, not reused."""
    versions = REPO / "app" / "store" / "migrations" / "versions"
    return sorted(path.stem for path in versions.glob("*.py"))[-1].split("_")[0]


def prepared(count: int) -> Path:
    root = DATA / f"overview-{count}-schema{schema_version()}"
    if (root / "ready").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    started = time.monotonic()
    write_definitions(root, count)
    build_ledger(root, count)
    (root / "ready").write_text("ok\n")
    print(f"built {count} SLOs and their ledger in {time.monotonic() - started:.0f}s")
    return root


def rendered_after_navigation(driver: Any, url: str) -> float:
    driver.get("about:blank")
    driver.get(url)
    deadline = time.monotonic() + 60
    while (rendered := driver.execute_script("return window.__rendered")) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the overview did not render all rows within 60s")
        time.sleep(0.02)
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    return float(rendered) / 1000


def measure(url: str, count: int, runs: int) -> dict[str, list[float]]:
    """Alternating cold (browser cache cleared) and warm (cached) loads in one browser, after
    one unmeasured load that starts Chromium's own machinery."""
    results: dict[str, list[float]] = {"cold": [], "warm": []}
    driver = chromium()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MARK_JS % count})
        driver.execute_cdp_cmd("Network.enable", {})
        rendered_after_navigation(driver, url + "/")
        for _ in range(runs):
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            results["cold"].append(rendered_after_navigation(driver, url + "/"))
            results["warm"].append(rendered_after_navigation(driver, url + "/"))
    finally:
        driver.quit()
    return results


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--slos", type=int, default=200)
    args = parser.parse_args()
    root = prepared(args.slos)
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="faultline-bench-"))
    # The server writes status snapshots at start: work on a copy and keep the cache as built.
    shutil.copy(root / "ledger.db", work / "ledger.db")
    definitions = load(root)

    def factory(_settings: object, _metrics: object) -> Engine:
        store = Store(f"sqlite:///{work / 'ledger.db'}").open()
        return Engine(store, unused_source(), definitions, EngineConfig(), clock=lambda: END + 60)

    settings = settings_for(
        f"sqlite:///{work / 'ledger.db'}",
        "http://127.0.0.1:9",
        definitions=root / "slo_definitions",
        alerts=root / "alerts",
    )
    server = start_faultline(settings, factory)  # type: ignore[arg-type]
    try:
        results = measure(server.url, args.slos, args.runs)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        kind: {
            "runs": len(values),
            "median_s": round(statistics.median(values), 3),
            "p95_s": round(p95(values), 3),
            "max_s": round(max(values), 3),
        }
        for kind, values in results.items()
    }
    machine = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()}
    print(json.dumps({"slos": args.slos, **machine, **summary}, indent=2))


if __name__ == "__main__":
    main()
