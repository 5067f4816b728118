"""Three `faultline serve` on one PostgreSQL ledger share the SLOs: each holds some, none is held
by two; a process killed mid-tick is replaced within one lease period; a process paused past its
lease writes nothing over its successor's work; the ledger ends as a clean run's.

Real processes over a real Prometheus scenario ending now (the pattern and helpers of
test_concurrent_writers).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from app.store import registry, slo_leases
from app.store.leases import Lease
from app.store.store import Store
from tests.engine.test_concurrent_writers import (
    Live,
    Serve,
    _assert_like_a_clean_run,
    _environment,
    _wait_evaluated,
    live,
)
from tests.fixtures.databases import postgres_answers, postgres_schema, schema_url

__all__ = ["live"]  # the shared Prometheus fixture

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.postgres]

LEASE = 3.0
PAYMENTS = "payments-gateway/provider-timeouts"
HISTORY = 6 * 3600  # no-data slices before the scenario


@pytest.fixture
def ledger() -> str:
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    with postgres_schema() as schema:
        yield schema_url(schema)


def _leases(url: str) -> tuple[list[Lease], dict[int, int | None]]:
    """The SLO leases, and each SLO's checkpoint."""
    store = Store(url).open(migrate=False)
    try:
        with store.read() as connection:
            held = slo_leases.slo_leases(connection)
            checkpoints = {slo.id: slo.checkpoint for slo in registry.list_slos(connection)}
    finally:
        store.close()
    return held, checkpoints


def _pid(lease: Lease) -> int:
    return int(lease.holder.split(":")[1])


def _wait_shared(url: str, pids: set[int], timeout: float = 30) -> dict[int, list[Lease]]:
    """Until every SLO is held (live) by one of `pids` and each of them holds some."""
    deadline = time.monotonic() + timeout
    by_pid: dict[int, list[Lease]] = {}
    while time.monotonic() < deadline:
        held, checkpoints = _leases(url)
        now = time.time()
        live_leases = [lease for lease in held if lease.expires_at > now]
        by_pid = {pid: [x for x in live_leases if _pid(x) == pid] for pid in pids}
        covered = {slo_leases.slo_id_of(x.name) for x in live_leases if _pid(x) in pids}
        if checkpoints and covered == set(checkpoints) and all(by_pid.values()):
            return by_pid
        time.sleep(0.2)
    raise AssertionError(f"SLOs not shared among {pids}: {by_pid}")


def _gauge(serve: Serve, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{serve.port}/metrics", timeout=5).text
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
    assert len(values) == 1, text
    return values[0]


def _assert_membership_visible(serves: list[Serve], timeout: float = 10) -> None:
    """/api/v1/cluster and the gauges of every process agree, once a rebalancing in flight
    (each process renews every third of a lease) has settled."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _check_membership(serves)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _check_membership(serves: list[Serve]) -> None:
    view = httpx.get(f"http://127.0.0.1:{serves[0].port}/api/v1/cluster", timeout=5).json()
    assert view["mode"] == "shared" and view["unheld"] == []
    members = {member["holder"]: member for member in view["members"]}
    assert len(members) == 3 and all(member["slos"] for member in members.values())
    assert view["leader"]["holder"] in members
    keys = [slo["key"] for member in members.values() for slo in member["slos"]]
    assert len(keys) == len(set(keys))  # none held twice
    assert sum(_gauge(serve, "faultline_leader") for serve in serves) == 1
    # Each process's own count, as of its last renewal (at most a third of a lease ago).
    assert sum(_gauge(serve, "faultline_slo_leases_held") for serve in serves) == len(keys)
    assert {_gauge(serve, "faultline_cluster_members") for serve in serves} == {3}
    ready = httpx.get(f"http://127.0.0.1:{serves[0].port}/readyz", timeout=5).json()
    assert ready["checks"]["slo_leases"].endswith("held among 3 member(s)")


def _environment3(live: Live, url: str) -> dict[str, str]:
    # Tiny chunks over a longer history: the first tick is long, so a kill or a pause lands
    # in it.
    return _environment(
        live,
        url,
        FAULTLINE_LEASE_SECONDS=str(int(LEASE)),
        FAULTLINE_PROMETHEUS_MAX_POINTS="10",
        FAULTLINE_INITIAL_BACKFILL=str(int(time.time()) - live.start + HISTORY),
    )


def test_three_serves_share_the_slos_and_survive_a_kill_mid_tick(
    live: Live, ledger: str, tmp_path: Path
) -> None:
    environment = _environment3(live, ledger)
    serves = [Serve(environment, tmp_path / f"serve-{n}.log") for n in range(3)]
    try:
        for serve in serves:
            serve.evaluator()
        shares = _wait_shared(ledger, {serve.process.pid for serve in serves})
        # Kill at once: on an idle machine the first tick may end while membership is checked
        # (that is checked in the pause test, before its pause).
        victim = serves[0]
        _, checkpoints = _leases(ledger)
        unfinished = [
            x
            for x in shares[victim.process.pid]
            if (checkpoints[slo_leases.slo_id_of(x.name)] or 0) < live.end
        ]
        assert unfinished, "the first tick ended before the kill: make it longer"
        victim.stop(signal.SIGKILL)
        killed = time.monotonic()
        survivors = {serve.process.pid for serve in serves[1:]}
        _wait_shared(ledger, survivors, timeout=3 * LEASE + 5)
        taken_after = time.monotonic() - killed
        assert taken_after <= LEASE + 3, f"takeover took {taken_after:.1f}s"
        history_start = _wait_evaluated(ledger, live.end)
    finally:
        for serve in serves:
            serve.stop()
    _assert_like_a_clean_run(ledger, live, history_start, tmp_path, command=False)


def test_a_paused_serve_writes_nothing_over_its_successor(
    live: Live, ledger: str, tmp_path: Path
) -> None:
    environment = _environment3(live, ledger)
    serves = [Serve(environment, tmp_path / f"serve-{n}.log") for n in range(3)]
    try:
        for serve in serves:
            serve.evaluator()
        shares = _wait_shared(ledger, {serve.process.pid for serve in serves})
        _assert_membership_visible(serves)
        shares = _wait_shared(ledger, {serve.process.pid for serve in serves})
        paused = serves[0]
        before = {x.name: x.generation for x in shares[paused.process.pid]}
        paused.process.send_signal(signal.SIGSTOP)
        try:
            _wait_shared(ledger, {serve.process.pid for serve in serves[1:]}, 3 * LEASE + 5)
        finally:
            paused.process.send_signal(signal.SIGCONT)
        held, _ = _leases(ledger)
        after = {x.name: x.generation for x in held if x.name in before}
        assert all(after[name] > before[name] for name in before), (before, after)
        history_start = _wait_evaluated(ledger, live.end)
        time.sleep(LEASE)  # the resumed process's next chunk writes are refused, not landed
    finally:
        for serve in serves:
            serve.stop()
    _assert_like_a_clean_run(ledger, live, history_start, tmp_path, command=False)
