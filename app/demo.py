"""The demo: a local Prometheus with 30 days of realistic failure history, kept fed live.

It generates the shipped system's history (`app.testbed`), builds a TSDB with promtool, starts
Prometheus on a free loopback port scraping a small live exporter that continues the same model
(with failure modes flaring up now and then), and hands the URL to `faultline serve`. When the
`prometheus-alertmanager` package is installed it also starts an Alertmanager and routes the
demo's notifications there (otherwise nowhere: the /alerts page still shows them), so the demo
never retries a receiver it did not start. Everything it starts lives in one temporary
directory, removed when the demo stops.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import TracebackType

from rich.console import Console

from app.testbed import (
    CacheStampede,
    ErrorBurst,
    Injection,
    MetricsExporter,
    PaymentTimeouts,
    PrometheusNotInstalledError,
    PrometheusServer,
    QueueBacklog,
    RegionOutage,
    ReplicaLag,
    ReplicationConflicts,
    Scenario,
    Simulation,
    WorkerOutage,
    build_tsdb,
    demo_history,
    find_binary,
    generate,
)
from app.testbed.alertmanager import AlertmanagerServer, find_alertmanager

__all__ = [
    "HISTORY_DAYS",
    "LIVE_HOURS",
    "DemoWorld",
    "PrometheusNotInstalledError",
    "demo_scenario",
    "first_flareup",
    "live_flareups",
    "start_world",
]

HISTORY_DAYS = 30
LIVE_HOURS = 48
# How often the demo's Prometheus scrapes the live exporter: a common production setting.
SCRAPE_INTERVAL = "15s"


def first_flareup(start: int) -> PaymentTimeouts:
    """Three minutes in, a payment provider outage strong enough to page within minutes, so a
    newcomer sees an alert fire, be delivered and name its failure mode in the first quarter
    hour (the random ones are often too mild to cross a tier for hours)."""
    return PaymentTimeouts(start + 3 * 60, minutes=10, ratio=0.3)


def live_flareups(start: int, hours: int, seed: int) -> tuple[Injection, ...]:
    """A strong flare-up first, then failure modes flaring up every 20 to 40 minutes after it,
    for the live part."""
    rng = random.Random(seed)  # noqa: S311 - a demo schedule, not a secret

    kinds: list[Callable[[int], Injection]] = [
        partial(PaymentTimeouts, minutes=10, ratio=0.05),
        partial(QueueBacklog, minutes=20, growth=0.6),
        partial(WorkerOutage, minutes=8),
        partial(CacheStampede, minutes=6),
        partial(RegionOutage, minutes=5, region="us-east", failure_ratio=0.5),
        partial(ReplicaLag, minutes=15, peak=90.0),
        partial(ReplicationConflicts, minutes=10, per_minute=25.0),
        partial(ErrorBurst, minutes=5, service="checkout", ratio=0.02),
    ]
    flareups: list[Injection] = [first_flareup(start)]
    at = start + 25 * 60
    while at < start + hours * 3600:
        flareups.append(rng.choice(kinds)(at))
        at += rng.randrange(20, 41) * 60
    return tuple(flareups)


def demo_scenario(now: float, days: int = HISTORY_DAYS) -> tuple[Scenario, str]:
    """History ending at the last whole minute before `now`, plus live flare-ups after it."""
    end = int(now) - int(now) % 60
    history = demo_history(end - days * 86400, days * 1440)
    scenario = replace(
        history.scenario,
        injections=history.scenario.injections + live_flareups(end, LIVE_HOURS, seed=11),
    )
    first = first_flareup(end)
    live = (
        f"Live: at {time.strftime('%H:%M', time.gmtime(first.start))} UTC the payment provider "
        f"times out {first.ratio:.0%} of calls for {first.minutes} minutes (it pages within "
        "minutes: see /alerts), then a failure mode flares up every 20 to 40 minutes."
    )
    return scenario, f"{history.story}\n{live}"


@dataclass
class DemoWorld(AbstractContextManager["DemoWorld"]):
    """The processes the demo started, and the directory they live in."""

    directory: Path
    prometheus: PrometheusServer
    exporter: MetricsExporter
    story: str
    incidents: int
    alertmanager: AlertmanagerServer | None = None

    def alerts_for(self, shipped: Path) -> Path:
        """A copy of the `shipped` alerts directory whose routes send every notification to
        this world's Alertmanager, or to no receiver when there is none."""
        target = self.directory / "alerts"
        if shipped.is_dir():
            shutil.copytree(shipped, target, dirs_exist_ok=True)
        target.mkdir(exist_ok=True)
        receivers = {}
        if self.alertmanager is not None:
            receivers["alertmanager"] = {
                "type": "alertmanager",
                "url": self.alertmanager.url,
                "timeout": 5,
                "resend_interval": "60s",
            }
        routes = {"receivers": receivers, "routes": []}
        # JSON is YAML; the file replaces the shipped routes, which name an Alertmanager at :9093.
        (target / "routes.yaml").write_text(json.dumps(routes, indent=2), encoding="utf-8")
        return target

    def close(self) -> None:
        with ExitStack() as stack:  # every step runs even when one before it fails
            stack.callback(shutil.rmtree, self.directory, ignore_errors=True)
            stack.callback(self.prometheus.close)
            if self.alertmanager is not None:
                stack.callback(self.alertmanager.stop)
            stack.callback(self.exporter.stop)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def start_world(console: Console, days: int = HISTORY_DAYS) -> DemoWorld:
    """Generate history, build the TSDB, start the exporter and Prometheus. Cleans up on failure."""
    scenario, story = demo_scenario(time.time(), days)
    return launch_world(console, scenario, story)


def launch_world(console: Console, scenario: Scenario, story: str) -> DemoWorld:
    """The demo's world over any scenario ending now: its history in a TSDB, and Prometheus
    scraping the live exporter that continues the same model every `SCRAPE_INTERVAL`."""
    find_binary("prometheus")  # fail before any work if the package is missing
    find_binary("promtool")
    directory = Path(tempfile.mkdtemp(prefix="faultline-demo-"))
    exporter: MetricsExporter | None = None
    prometheus: PrometheusServer | None = None
    days = scenario.minutes / 1440
    try:
        started = time.monotonic()
        simulation = Simulation(scenario)
        unit = "day" if days == 1 else "days"
        with console.status(f"generating {days:g} {unit} of the shop's metrics"):
            dataset = generate(scenario, simulation)
        with console.status("writing them into a Prometheus TSDB (promtool)"):
            build_tsdb(dataset, directory / "tsdb", work_dir=directory)
        exporter = MetricsExporter(simulation)
        exporter.start()
        prometheus = PrometheusServer(
            directory / "tsdb",
            scrape_targets=[exporter.address],
            scrape_interval=SCRAPE_INTERVAL,
            work_dir=directory / "prometheus",
        )
        with console.status("starting Prometheus"):
            prometheus.start()
        console.print(
            f"history ready in {time.monotonic() - started:.0f}s: Prometheus {prometheus.url} "
            f"scraping the live exporter {exporter.url}"
        )
        alertmanager = start_alertmanager(console, directory)
        incidents = sum(1 for line in story.splitlines() if line.startswith("- "))
        return DemoWorld(directory, prometheus, exporter, story, incidents, alertmanager)
    except BaseException:
        if exporter is not None:
            exporter.stop()
        if prometheus is not None:
            prometheus.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise


def start_alertmanager(console: Console, directory: Path) -> AlertmanagerServer | None:
    """The demo's Alertmanager when the package is installed; a note (not a failure) when not."""
    binary = find_alertmanager()
    if binary is None:
        console.print(
            "Alertmanager is not installed (apt-get install prometheus-alertmanager): the demo's "
            "alerts are shown on /alerts and delivered nowhere."
        )
        return None
    alertmanager = AlertmanagerServer(binary, directory / "alertmanager")
    try:
        with console.status("starting Alertmanager"):
            alertmanager.start()
    except RuntimeError as error:  # the demo goes on without it, and says so
        alertmanager.stop()
        console.print(f"Alertmanager did not start, alerts are delivered nowhere: {error}")
        return None
    except BaseException:
        alertmanager.stop()
        raise
    console.print(f"Alertmanager {alertmanager.url} receives the demo's notifications")
    return alertmanager
