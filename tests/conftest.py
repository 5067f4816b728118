"""Shared fixtures: named scenarios built once per session, and real Prometheus servers over them.

`testbed` generates each named scenario (and its TSDB, on first need) once per session.
`prometheus_over("fast_burn")` (or `prometheus_over("fast_burn", interval=60, phase=41,
jitter=1)`, a field cell: scrapes every minute, 41 s after it, ±1 s) starts `/usr/bin/prometheus` over a private hard-linked copy of
that TSDB and stops it after the test; it returns `.url`, `.scenario`, `.truth`, `.dataset` and
`.server` (stop/start it to simulate an outage). Tests that use it are marked
`@pytest.mark.prometheus`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from app.testbed.dataset import Dataset, generate
from app.testbed.prometheus import PrometheusNotInstalledError, PrometheusServer, find_binary
from app.testbed.scenario import Scenario
from app.testbed.scenarios import NAMED_SCENARIOS, NamedScenario
from app.testbed.truth import GroundTruth
from app.testbed.vmsemantics import VictoriaMetricsEvaluator
from tests.fixtures.databases import database_url
from tests.fixtures.fake_prometheus import fake_prometheus
from tests.fixtures.victoriametrics import BINARY as VICTORIAMETRICS
from tests.fixtures.victoriametrics import INSTALL_HINT as VICTORIAMETRICS_HINT
from tests.fixtures.victoriametrics import VictoriaMetricsServer

# Fixtures: every test may ask for SQLite and PostgreSQL ledgers, and a misbehaving Prometheus.
__all__ = ["database_url", "fake_prometheus"]
from app.testbed.tsdb import build_tsdb, link_tsdb

# 2024-03-04 00:00 UTC, a Monday: a fixed past time keeps every run identical.
TEST_START = 1_709_510_400
# Spans and sample intervals of the named scenarios in tests (the demo uses 30 days).
TEST_SCENARIOS: dict[str, dict[str, int]] = {
    "steady": {"minutes": 360},
    "fast_burn": {"minutes": 360, "interval": 15},
    "slow_burn": {"minutes": 1440},
    "queue_age": {"minutes": 360},
    "overlapping": {"minutes": 360},
    "low_traffic": {"minutes": 180},
    "demo_history": {"minutes": 2 * 1440},
    "backtest_week": {"minutes": 9 * 1440},
    "region_outage": {"minutes": 240},
    "route_burn": {"minutes": 240},
    "replica_lag_by_region": {"minutes": 240},
}


@dataclass(frozen=True)
class BuiltScenario:
    named: NamedScenario
    dataset: Dataset
    truth: GroundTruth

    @property
    def scenario(self) -> Scenario:
        return self.named.scenario


class TestbedCache:
    """Named scenarios, their truth and TSDBs, each made once per session."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: dict[str, BuiltScenario] = {}
        self._tsdb: dict[str, Path] = {}
        self._on_vm: dict[int, BuiltScenario] = {}

    def get(self, name: str, **sampling: float) -> BuiltScenario:
        """The named scenario; `sampling` sets `interval`, `phase` and `jitter` (a field cell)."""
        key = variant(name, **sampling)
        if key not in self._built:
            named = NAMED_SCENARIOS[name](TEST_START, **TEST_SCENARIOS[name])
            if sampling:
                named = replace(named, scenario=replace(named.scenario, **sampling))
            dataset = generate(named.scenario)
            self._built[key] = BuiltScenario(named, dataset, GroundTruth(dataset))
        return self._built[key]

    def on_victoriametrics(self, built: BuiltScenario) -> BuiltScenario:
        """The same scenario with the truth's `when` in VictoriaMetrics' semantics, made once."""
        key = id(built)
        if key not in self._on_vm:
            evaluator = VictoriaMetricsEvaluator(built.dataset)
            self._on_vm[key] = replace(built, truth=GroundTruth(built.dataset, evaluator=evaluator))
        return self._on_vm[key]

    def tsdb(self, name: str, **sampling: float) -> Path:
        key = variant(name, **sampling)
        if key not in self._tsdb:
            built = self.get(name, **sampling)
            directory = self.root / f"tsdb-{key}"
            build_tsdb(built.dataset, directory, work_dir=self.root)
            self._tsdb[key] = directory
        return self._tsdb[key]


def variant(name: str, **sampling: float) -> str:
    """A file-name-safe key of a scenario and its sampling (`fast_burn-interval60-phase41`)."""
    return "-".join([name, *(f"{field}{value:g}" for field, value in sorted(sampling.items()))])


@dataclass(frozen=True)
class RunningPrometheus:
    url: str
    server: PrometheusServer | VictoriaMetricsServer
    built: BuiltScenario

    @property
    def scenario(self) -> Scenario:
        return self.built.scenario

    @property
    def truth(self) -> GroundTruth:
        return self.built.truth

    @property
    def dataset(self) -> Dataset:
        return self.built.dataset


def require_prometheus() -> None:
    """Fail (never skip) when the Debian prometheus package is missing."""
    try:
        find_binary("prometheus")
        find_binary("promtool")
    except PrometheusNotInstalledError as error:
        pytest.fail(
            f"{error}. `./run.sh test` installs it; tests marked `prometheus` need a real server.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> TestbedCache:
    return TestbedCache(tmp_path_factory.mktemp("testbed"))


@pytest.fixture
def prometheus_over(
    testbed: TestbedCache, tmp_path: Path
) -> Iterator[Callable[..., RunningPrometheus]]:
    """Factory: `prometheus_over(name)` serves the named scenario until the test ends."""
    servers: list[PrometheusServer] = []

    def start(name: str, **sampling: float) -> RunningPrometheus:
        require_prometheus()
        key = variant(name, **sampling)
        data = link_tsdb(testbed.tsdb(name, **sampling), tmp_path / f"data-{key}-{len(servers)}")
        server = PrometheusServer(data, work_dir=tmp_path / f"prometheus-{key}-{len(servers)}")
        servers.append(server)
        server.start()
        return RunningPrometheus(server.url, server, testbed.get(name, **sampling))

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def victoriametrics_over(
    testbed: TestbedCache, tmp_path: Path
) -> Iterator[Callable[..., RunningPrometheus]]:
    """Factory like `prometheus_over`: VictoriaMetrics loaded with the scenario's samples."""
    if not VICTORIAMETRICS.is_file():
        pytest.skip(f"{VICTORIAMETRICS} is missing; {VICTORIAMETRICS_HINT}")
    servers: list[VictoriaMetricsServer] = []

    def start(name: str, **sampling: float) -> RunningPrometheus:
        built = testbed.get(name, **sampling)
        key = f"{variant(name, **sampling)}-{len(servers)}"
        server = VictoriaMetricsServer(tmp_path / f"vm-data-{key}", tmp_path / f"vm-{key}")
        servers.append(server)
        server.start()
        server.load(built.dataset)
        # `when` conditions are the user's queries asked as written: true where VictoriaMetrics'
        # own rate() says so (the counts' truth is the same events).
        return RunningPrometheus(server.url, server, testbed.on_victoriametrics(built))

    yield start
    for server in servers:
        server.close()
