"""Several writers on one ledger, as real processes: `faultline backfill` beside a running
`faultline serve`, and two `faultline serve`. The ledger invariant holds afterwards
(`faultline check-ledger` is clean) and `faultline report --json` equals a clean run's, on
SQLite and PostgreSQL.

The scenario ends now, because `serve` evaluates up to the wall clock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.runtime.settings import Settings
from app.runtime.wiring import reporting_engine
from app.slo.report import Report
from app.store import jobs, registry
from app.store.errors import StoreError
from app.store.invariants import rollup_disagreements
from app.store.store import Store
from app.testbed.dataset import generate
from app.testbed.prometheus import PrometheusServer, free_port
from app.testbed.scenarios import fast_burn, start_ending_before
from app.testbed.tsdb import build_tsdb
from tests.conftest import require_prometheus
from tests.engine.conftest import REPO, make_engine

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

FAULTLINE = str(Path(sys.executable).with_name("faultline"))
MINUTES = 180
LEAD = 900  # serve's history starts this long before the scenario: no-data slices


@dataclass(frozen=True)
class Live:
    url: str
    start: int
    end: int


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Prometheus over a scenario ending now, shared by the module's tests."""
    require_prometheus()
    root = tmp_path_factory.mktemp("live")
    scenario = fast_burn(start_ending_before(time.time(), MINUTES, margin_minutes=0), MINUTES)
    build_tsdb(generate(scenario.scenario), root / "tsdb", work_dir=root)
    server = PrometheusServer(root / "tsdb", work_dir=root / "prometheus")
    server.start()
    yield Live(server.url, scenario.scenario.start, scenario.scenario.end)
    server.close()


def _environment(live: Live, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "FAULTLINE_DATABASE_URL": database_url,
        "FAULTLINE_PROMETHEUS_URL": live.url,
        "FAULTLINE_DEFINITIONS": str(REPO / "slo_definitions"),
        "FAULTLINE_ALERTS": str(REPO / "alerts"),
        "FAULTLINE_EVALUATION_DELAY": "0",
        # From an hour before the scenario: a first tick as long as the backfill beside it.
        "FAULTLINE_INITIAL_BACKFILL": str(int(time.time()) - live.start + LEAD),
        # Tiny chunks: many transactions, so the writers interleave.
        "FAULTLINE_PROMETHEUS_MAX_POINTS": "60",
        **extra,
    }


class Serve:
    """`faultline serve` as a subprocess on a free port, its output in a log file."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [FAULTLINE, "serve", "--port", str(self.port)],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def evaluator(self, timeout: float = 60) -> str:
        """The `evaluator` check of /readyz (whatever the readiness)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            try:
                body = httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=5).json()
                return str(body["checks"]["evaluator"])
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"serve did not answer:\n{self.log.read_text(errors='replace')}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=60)


def _wait_evaluated(database_url: str, end: int, timeout: float = 90) -> int:
    """Wait until every SLO is evaluated through `end` and no job is left; the history start."""
    store = Store(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                store.open(migrate=False)
                with store.read() as connection:
                    stored = registry.list_slos(connection)
                    unfinished = jobs.unfinished_jobs(connection)
            except StoreError:  # not migrated yet: keep waiting
                stored, unfinished = [], []
            if stored and not unfinished and all((s.checkpoint or 0) >= end for s in stored):
                return min(s.history_start or 0 for s in stored)
            time.sleep(0.5)
    finally:
        store.close()
    raise AssertionError("the ledger was not evaluated in time")


def _run(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FAULTLINE, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits: rollups added up in another order may differ in the
    last bits, never more."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {
            key: _rounded(item)
            for key, item in value.items()
            if key not in {"generated_at", "evaluated_through"}
        }
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _report(database_url: str, live: Live, environment: dict[str, str]) -> Any:
    result = _run(
        "report", "--json", "--at", str(live.end), "--database-url", database_url,
        environment=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return _rounded(json.loads(result.stdout))


def _clean_report(live: Live, first: int, tmp_path: Path) -> Any:
    """The report of a clean run over the same range: one process, one tick (in-process: the
    same code as `faultline report --json`, without another interpreter start)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path}/reference.db"
    engine = make_engine(live.url, url, first, live.end)
    try:
        result = engine.tick(now=live.end)
        assert not result.errors and result.unavailable is None
    finally:
        engine.store.close()
    settings = Settings(
        definitions=REPO / "slo_definitions",
        alerts=REPO / "alerts",
        database_url=url,
        prometheus_url=live.url,
    )
    reader = reporting_engine(settings)
    try:
        reports = [reader.report(slo.key, live.end) for slo in reader.definitions.slos]
    finally:
        reader.store.close()
    return _rounded(json.loads(Report(generated_at="", slos=reports).model_dump_json()))


def _assert_like_a_clean_run(
    database_url: str, live: Live, history_start: int, tmp_path: Path, *, command: bool = True
) -> None:
    if command:
        check = _run("check-ledger", environment=_environment(live, database_url))
        assert check.returncode == 0, check.stdout + check.stderr
        assert "ledger consistent" in check.stderr
    else:
        store = Store(database_url).open(migrate=False)
        try:
            with store.snapshot() as connection:
                for slo in registry.list_slos(connection):
                    assert rollup_disagreements(connection, slo.id) == [], slo.key
        finally:
            store.close()
    starts = _history_starts(database_url)
    if database_url.startswith("sqlite"):  # and read it read-only: report never migrates
        database_url = database_url.replace("sqlite:///", "sqlite:///file:") + "?mode=ro&uri=true"
    ours = _report(database_url, live, _environment(live, database_url))
    # Each SLO against a clean run from its own history start: an SLO first evaluated after a
    # minute boundary (by a successor, a paused holder's SLOs) starts a slice later than the
    # others, which a clean run from `history_start` would count as one more no-data slice.
    assert min(starts.values()) == history_start
    clean_slos: dict[str, Any] = {}
    for start in sorted(set(starts.values())):
        clean = _clean_report(live, start - 60, tmp_path / f"clean-{start}")
        clean_slos |= {x["key"]: x for x in clean["slos"] if starts.get(x["key"]) == start}
    clean = clean | {"slos": [clean_slos.get(x["key"]) for x in ours["slos"]]}
    assert ours == clean, _differences(ours, clean)


def _history_starts(database_url: str) -> dict[str, int]:
    store = Store(database_url)
    try:
        store.open(migrate=False)
        with store.read() as connection:
            return {s.key: s.history_start or 0 for s in registry.list_slos(connection)}
    finally:
        store.close()


def _differences(ours: Any, clean: Any, path: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(clean, dict):
        return [
            line
            for key in sorted(set(ours) | set(clean))
            for line in _differences(ours.get(key), clean.get(key), f"{path}.{key}")
        ]
    if isinstance(ours, list) and isinstance(clean, list) and len(ours) == len(clean):
        return [
            line
            for index, (a, b) in enumerate(zip(ours, clean, strict=True))
            for line in _differences(a, b, f"{path}[{index}]")
        ]
    return [] if ours == clean else [f"{path}: {ours!r} != clean {clean!r}"]


def test_a_backfill_beside_a_running_serve_leaves_the_ledger_of_a_clean_run(
    live: Live, database_url: str, tmp_path: Path
) -> None:
    environment = _environment(live, database_url)
    serve = Serve(environment, tmp_path / "serve.log")
    try:
        # Once serve answers, its first tick is writing: the backfill writes the same SLOs.
        assert "this process" in serve.evaluator()
        # From before serve's first tick: every SLO's history starts where the backfill's does.
        backfill = _run(
            "backfill", "--from", str(live.start - LEAD - 300), "--to", str(live.end),
            environment=environment,
        )  # fmt: skip
        assert backfill.returncode == 0, backfill.stderr
        history_start = _wait_evaluated(database_url, live.end)
    finally:
        serve.stop()
    _assert_like_a_clean_run(database_url, live, history_start, tmp_path)


def test_two_serves_on_one_ledger_evaluate_once_and_the_second_takes_over(
    live: Live, database_url: str, tmp_path: Path
) -> None:
    """SQLite: one evaluator, the other serves reads. PostgreSQL: both evaluate their share of
    the SLOs (tests/engine/test_shared_evaluation.py), one leads; the other takes the lead over."""
    other = "serves reads" if database_url.startswith("sqlite") else "evaluates its share"
    environment = _environment(live, database_url, FAULTLINE_LEASE_SECONDS="3")
    serves = [Serve(environment, tmp_path / f"serve-{n}.log") for n in range(2)]
    try:
        roles = [serve.evaluator() for serve in serves]
        evaluating = [n for n, role in enumerate(roles) if role.startswith("this process")]
        assert len(evaluating) == 1, roles
        reader = serves[1 - evaluating[0]]
        assert f"this process {other}" in roles[1 - evaluating[0]]
        view = httpx.get(f"http://127.0.0.1:{reader.port}/api/v1/cluster", timeout=5).json()
        assert view["mode"] == ("shared" if other == "evaluates its share" else "single-evaluator")
        assert view["leader"]["holder"] not in {None, view["this_process"]}
        history_start = _wait_evaluated(database_url, live.end)
        serves[evaluating[0]].stop(signal.SIGKILL)  # the evaluator dies: the other takes over
        deadline = time.monotonic() + 20
        while not reader.evaluator().startswith("this process") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert reader.evaluator().startswith("this process (generation 2)")
    finally:
        for serve in serves:
            serve.stop()
    said = reader.log.read_text(errors="replace")
    assert f"this process {other}" in said and "and takes over if that lease expires" in said
    _assert_like_a_clean_run(database_url, live, history_start, tmp_path, command=False)
