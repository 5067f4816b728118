"""The chaos loop, shared by tests/engine/test_chaos.py (short) and bench/bench_chaos.py (long):
three `faultline serve` on one PostgreSQL ledger tick over a real Prometheus scenario while the
leader runs a queued backfill and delivers alert notifications to a webhook receiver; every
`gap` seconds one replica chosen at random is killed -9 and started again. At the end the ledger
must equal, row for row, one process's clean run of the same range, and every notification must
have been handled exactly once per idempotency key, with no transition judged twice.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy import Connection, func, select

from app.store import jobs, registry, slo_leases
from app.store.errors import StoreError
from app.store.store import Store
from app.store.tables import alert_events, notifications
from tests.alerting.receiver import WebhookReceiver
from tests.engine.conftest import REPO, make_engine
from tests.engine.ledger_rows import ledger_rows, row_differences
from tests.engine.test_concurrent_writers import Serve

TOKEN = "chaos-token"
T = TypeVar("T")


@dataclass(frozen=True)
class Scenario:
    prometheus: str
    start: int  # the scenario's first slice end: ticks evaluate from here (alerts fire)
    end: int  # the scenario's last slice end
    history: int = 3 * 3600  # the backfill starts this long before `start` (no-data slices)

    @property
    def backfill_from(self) -> int:
        return self.start - self.history


@dataclass
class ChaosOutcome:
    kills: list[float] = field(default_factory=list)  # seconds into the run
    # kill → every SLO held by a live process again (the restarted one may be among them)
    recovered_s: list[float] = field(default_factory=list)
    settled_s: float = 0.0  # last kill → ledger complete, backfill done, outbox delivered
    ledger_rows: int = 0
    ledger_differences: list[str] = field(default_factory=list)
    notifications: int = 0
    handled: int = 0
    lost: int = 0
    duplicate_effective: int = 0  # one transition handled under two keys, or a key twice
    resent_same_key: int = 0  # extra requests with a key already handled (receiver dedups)


def _alerts(work: Path, hook: str) -> Path:
    target = work / "alerts"
    target.mkdir(exist_ok=True)
    (target / "policies.yaml").write_bytes((REPO / "alerts" / "policies.yaml").read_bytes())
    (target / "routes.yaml").write_text(
        f"receivers:\n  hook:\n    type: webhook\n    url: {hook}\n    timeout: 2\n"
    )
    return target


def environment(
    base: dict[str, str], scenario: Scenario, ledger: str, hook: str, work: Path, lease: float
) -> dict[str, str]:
    return base | {
        "FAULTLINE_DATABASE_URL": ledger,
        "FAULTLINE_PROMETHEUS_URL": scenario.prometheus,
        "FAULTLINE_DEFINITIONS": str(REPO / "slo_definitions"),
        "FAULTLINE_ALERTS": str(_alerts(work, hook)),
        "FAULTLINE_EVALUATION_DELAY": "0",
        # Ticks from the scenario's start (its alerts fire on the way); the backfill covers the
        # history before it too.
        "FAULTLINE_INITIAL_BACKFILL": str(int(time.time()) - scenario.start + 60),
        "FAULTLINE_PROMETHEUS_MAX_POINTS": "10",  # many chunks: kills land inside them
        "FAULTLINE_LEASE_SECONDS": f"{lease:g}",
        "FAULTLINE_API_TOKEN": TOKEN,
    }


def _store_read(url: str, read: Callable[[Connection], T]) -> T:
    store = Store(url).open(migrate=False)
    try:
        with store.read() as connection:
            return read(connection)
    finally:
        store.close()


def _all_held(url: str, dead: str = "") -> bool:
    """Every active SLO held by a live lease, none by `dead` (a killed process's leases look
    live until they expire)."""

    def read(connection: Connection) -> bool:
        ids = {slo.id for slo in registry.list_slos(connection)}
        now = time.time()
        held = {
            slo_leases.slo_id_of(lease.name)
            for lease in slo_leases.slo_leases(connection)
            if lease.expires_at > now and lease.holder not in ("", dead)
        }
        return bool(ids) and ids <= held

    try:
        return _store_read(url, read)
    except StoreError:
        return False


def _settled(url: str, end: int) -> bool:
    def read(connection: Connection) -> bool:
        stored = registry.list_slos(connection)
        unfinished = jobs.unfinished_jobs(connection)
        pending = connection.execute(
            select(func.count())
            .select_from(notifications)
            .where(notifications.c.state != "delivered")
        ).scalar()
        return bool(
            stored
            and not unfinished
            and not pending
            and all((s.checkpoint or 0) >= end for s in stored)
        )

    return _store_read(url, read)


def _holder(serve: Serve) -> str:
    view = httpx.get(f"http://127.0.0.1:{serve.port}/api/v1/cluster", timeout=10).json()
    return str(view["this_process"])


def _rfc3339(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _wait(check: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not within {timeout:g}s")
        time.sleep(0.25)
    return time.monotonic() - started


def run_chaos(
    env: dict[str, str],
    scenario: Scenario,
    hook: WebhookReceiver,
    work: Path,
    *,
    duration: float,
    gap: tuple[float, float],
    seed: int = 13,
    settle_timeout: float = 600,
) -> ChaosOutcome:
    """Run the loop for `duration` seconds, then let it settle and compare."""
    rng = random.Random(seed)
    outcome = ChaosOutcome()
    ledger = env["FAULTLINE_DATABASE_URL"]
    serves = [Serve(env, work / f"serve-{n}-0.log") for n in range(3)]
    restarts = [0, 0, 0]
    try:
        for serve in serves:
            serve.evaluator()
        _wait(lambda: _all_held(ledger), 120, "every SLO held")
        queued = httpx.post(
            f"http://127.0.0.1:{serves[0].port}/api/v1/backfills",
            json={"start": _rfc3339(scenario.backfill_from - 60), "end": _rfc3339(scenario.end)},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert queued.status_code == 202, queued.text
        began = time.monotonic()
        while time.monotonic() - began + gap[0] < duration:
            time.sleep(rng.uniform(*gap))
            n = rng.randrange(3)
            victim = _holder(serves[n])
            serves[n].stop(signal.SIGKILL)
            killed = time.monotonic()
            outcome.kills.append(round(killed - began, 1))
            restarts[n] += 1
            serves[n] = Serve(env, work / f"serve-{n}-{restarts[n]}.log")
            _wait(partial(_all_held, ledger, victim), 120, "SLOs held again")
            outcome.recovered_s.append(round(time.monotonic() - killed, 1))
        last = time.monotonic()
        _wait(lambda: _settled(ledger, scenario.end), settle_timeout, "ledger, backfill, outbox")
        outcome.settled_s = round(time.monotonic() - last, 1)
    finally:
        for serve in serves:
            serve.stop()
    _compare(outcome, ledger, scenario, hook, work)
    return outcome


def _compare(
    outcome: ChaosOutcome, ledger: str, scenario: Scenario, hook: WebhookReceiver, work: Path
) -> None:
    reference = f"sqlite:///{work}/chaos-reference.db"
    engine = make_engine(scenario.prometheus, reference, scenario.backfill_from - 60, scenario.end)
    try:
        result = engine.tick(now=scenario.end)
        assert not result.errors and result.unavailable is None
    finally:
        engine.store.close()
    ours, clean = ledger_rows(ledger, scenario.end), ledger_rows(reference, scenario.end)
    outcome.ledger_rows = sum(len(rows) for tables in ours.values() for rows in tables.values())
    outcome.ledger_differences = [] if ours == clean else row_differences(ours, clean)

    def read(connection: Connection) -> tuple[list[str], int, int]:
        keys = list(connection.execute(select(notifications.c.idempotency_key)).scalars())
        events = connection.execute(select(func.count()).select_from(alert_events)).scalar()
        transitions = connection.execute(
            select(func.count()).select_from(
                select(alert_events.c.slo_id, alert_events.c.tier, alert_events.c.state,
                       alert_events.c.t).distinct().subquery()
            )
        ).scalar()  # fmt: skip
        return keys, int(events or 0), int(transitions or 0)

    keys, events, transitions = _store_read(ledger, read)
    sent = hook.deliveries_per_key()
    outcome.notifications = len(keys)
    outcome.handled = len(set(hook.handled) & set(keys))
    outcome.lost = len(set(keys) - set(hook.handled))
    outcome.duplicate_effective = (events - transitions) + len(set(hook.handled) - set(keys))
    outcome.resent_same_key = sum(count - 1 for count in sent.values() if count > 1)
