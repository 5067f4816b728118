"""Three `faultline serve` on one PostgreSQL ledger share the SLOs: each holds some, none is held
by two; a process killed mid-tick is replaced within one lease period; a process paused past its
lease writes nothing over its successor's work; the ledger ends as a clean run's.

Real processes over a real Prometheus scenario ending now (the pattern and helpers of
test_concurrent_writers).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from app.store import jobs, registry, slo_leases
from app.store.leases import Lease
from app.store.store import Store
from app.store.tables import definition_generations
from tests.engine.conftest import REPO, make_engine
from tests.engine.ledger_rows import ledger_rows, row_differences
from tests.engine.test_concurrent_writers import (
    Live,
    Serve,
    _assert_like_a_clean_run,
    _environment,
    _wait_evaluated,
    live,
)
from tests.fixtures.databases import postgres_answers, postgres_schema, schema_url
from tests.web.browsing import load
from tests.web.conftest import SCREENSHOTS, require_chromium
from tests.web.harness import chromium

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


def _assert_membership_page(serve: Serve, url: str) -> None:
    """The dashboards' operations page and footer, in headless Chromium, show the members the
    ledger's leases name, each with the SLOs it holds."""
    require_chromium()
    driver = chromium()
    try:
        # Leases move while the page renders on a loaded machine (a member lapses, another takes
        # its SLOs): the page is compared with leases that held still around its rendering.
        for _ in range(5):
            before = _held_by_holder(url)
            load(driver, f"http://127.0.0.1:{serve.port}/operations")
            rows = driver.execute_script(
                "return [...document.querySelectorAll('#members tbody tr')].map(r =>"
                " [r.dataset.holder, Number(r.dataset.held)])"
            )
            footer = driver.find_element(By.ID, "cluster-summary").text
            truth = _held_by_holder(url)
            if truth == before:
                break
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / "operations.png"))
    finally:
        driver.quit()
    assert dict(rows) == truth, (rows, truth)
    _, checkpoints = _leases(url)
    assert sum(truth.values()) == len(checkpoints)
    assert footer.startswith("3 evaluating member(s) · leader "), footer


def _held_by_holder(url: str) -> dict[str, int]:
    """How many SLOs each holder's unexpired leases hold."""
    held, _ = _leases(url)
    now = time.time()
    truth: dict[str, int] = {}
    for lease in held:
        if lease.expires_at > now:
            truth[lease.holder] = truth.get(lease.holder, 0) + 1
    return truth


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
        _assert_membership_page(serves[1], ledger)
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


def _rfc3339(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _cluster(serve: Serve, timeout: float = 30) -> dict:  # type: ignore[type-arg]
    """/api/v1/cluster of `serve`, asked again while it answers otherwise than 200 (on a loaded
    machine a member may lapse and have its sessions ended: the store is back a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"http://127.0.0.1:{serve.port}/api/v1/cluster", timeout=10)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer.json()  # type: ignore[no-any-return]
        time.sleep(0.3)


def _jobs(url: str) -> list[jobs.Job]:
    store = Store(url).open(migrate=False)
    try:
        with store.read() as connection:
            return jobs.unfinished_jobs(connection)
    finally:
        store.close()


def _assert_rows_like_a_clean_run(url: str, live: Live, first: int, tmp_path: Path) -> None:
    """Row for row: slices and rollups (both levels, with their failure-mode rows) through the
    scenario's end, against one process evaluating the same range in one tick."""
    reference = f"sqlite:///{tmp_path}/rows-reference.db"
    engine = make_engine(live.url, reference, first - 60, live.end)
    try:
        result = engine.tick(now=live.end)
        assert not result.errors and result.unavailable is None
    finally:
        engine.store.close()
    ours, clean = ledger_rows(url, live.end), ledger_rows(reference, live.end)
    assert sum(len(rows) for tables in clean.values() for rows in tables.values()) > 1000
    assert ours == clean, row_differences(ours, clean)


def test_a_leader_killed_mid_backfill_is_taken_over_and_the_ledger_equals_a_clean_run(
    live: Live, ledger: str, tmp_path: Path
) -> None:
    """The leader runs the queued backfills: killed -9 in the middle of one, a survivor takes
    the lead and the job over within one lease period, from the job's cursor."""
    environment = _environment(
        live,
        ledger,
        FAULTLINE_LEASE_SECONDS=str(int(LEASE)),
        FAULTLINE_PROMETHEUS_MAX_POINTS="10",  # many chunks: the kill lands inside a job
        FAULTLINE_API_TOKEN="ha-test-token",
    )
    serves = [Serve(environment, tmp_path / f"serve-{n}.log") for n in range(3)]
    first = live.start - HISTORY
    try:
        for serve in serves:
            serve.evaluator()
        _wait_shared(ledger, {serve.process.pid for serve in serves})
        queued = httpx.post(
            f"http://127.0.0.1:{serves[1].port}/api/v1/backfills",
            json={"start": _rfc3339(first - 60), "end": _rfc3339(live.end)},
            headers={"Authorization": "Bearer ha-test-token"},
            timeout=10,
        )
        assert queued.status_code == 202, queued.text
        job_id, holder, cursor = _running_job(ledger)
        leader = next(s for s in serves if s.process.pid == int(holder.split(":")[1]))
        leader.stop(signal.SIGKILL)
        killed = time.monotonic()
        taken_after = _job_taken_over(ledger, job_id, holder, cursor) - killed
        print(f"backfill taken over {taken_after:.1f}s after the kill (lease {LEASE:g}s)")
        assert taken_after <= LEASE + 2, f"backfill takeover took {taken_after:.1f}s"
        survivors = {serve.process.pid for serve in serves if serve is not leader}
        _wait_shared(ledger, survivors, timeout=3 * LEASE + 5)
        history_start = _wait_evaluated(ledger, live.end, timeout=240)
    finally:
        for serve in serves:
            serve.stop()
    assert history_start == first
    _assert_rows_like_a_clean_run(ledger, live, history_start, tmp_path)


def _running_job(url: str, timeout: float = 60) -> tuple[int, str, int]:
    """A backfill job claimed with its cursor moved: its id, holder and cursor."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for job in _jobs(url):
            if job.holder and job.cursor is not None:
                return job.id, job.holder, job.cursor
        time.sleep(0.1)
    raise AssertionError("no backfill job ran")


def _job_taken_over(url: str, job_id: int, dead: str, cursor: int, timeout: float = 60) -> float:
    """When job `job_id` moved on under another holder, or finished (monotonic time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = next((job for job in _jobs(url) if job.id == job_id), None)
        if job is None or (job.holder not in (None, dead) and (job.cursor or 0) > cursor):
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError("the dead leader's backfill was not taken over")


def _definitions(tmp_path: Path, name: str, objective: str) -> Path:
    """A copy of the shipped definitions with the payments SLO's objective set."""
    target = tmp_path / name
    target.mkdir()
    for file in (REPO / "slo_definitions").iterdir():
        text = file.read_text()
        if file.name == "payments.yaml":
            text = text.replace("objective: 99.5", f"objective: {objective}")
        (target / file.name).write_text(text)
    return target


def _registered(url: str) -> tuple[tuple[str | None, int | None], int, str]:
    """The payments SLO's registered (declared hash, generation), how many definitions
    generations are recorded, and who holds its lease."""
    store = Store(url).open(migrate=False)
    try:
        with store.read() as connection:
            stored = {slo.key: slo for slo in registry.list_slos(connection)}
            count = len(connection.execute(select(definition_generations)).all())
            held = {lease.name: lease for lease in slo_leases.slo_leases(connection)}
    finally:
        store.close()
    slo = stored.get(PAYMENTS)
    if slo is None:
        return (None, None), count, ""
    lease = held.get(slo_leases.slo_name(slo.id))
    holder = lease.holder if lease is not None and lease.expires_at > time.time() else ""
    return (slo.declared_hash, slo.definitions_generation), count, holder


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 4 * LEASE + 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def test_a_rolling_definition_change_converges_without_flip_flop(
    live: Live, ledger: str, tmp_path: Path
) -> None:
    """Three serves get the payments SLO's new objective one by one (one of them restarted
    with the old files in between): the registry goes from the old definition to the new one
    once and never back, and from the new registration on only processes holding the new
    definition hold that SLO."""
    base = _environment(live, ledger, FAULTLINE_LEASE_SECONDS=str(int(LEASE)))
    old = base | {"FAULTLINE_DEFINITIONS": str(_definitions(tmp_path, "old", "99.5"))}
    new = base | {"FAULTLINE_DEFINITIONS": str(_definitions(tmp_path, "new", "99.4"))}
    serves = [Serve(old, tmp_path / f"old-{n}.log") for n in range(3)]
    history: list[tuple[str | None, int | None]] = []  # the registered definition, as it moves
    holders: list[str] = []  # who held the payments SLO once the new definition was in
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            registered, _, holder = _registered(ledger)
            if registered[0] is not None and (not history or history[-1] != registered):
                history.append(registered)
            if len(history) > 1 and holder:
                holders.append(holder)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    new_holders: set[str] = set()
    try:
        for serve in serves:
            serve.evaluator()
        _wait_shared(ledger, {serve.process.pid for serve in serves})
        watcher.start()
        serves[0].stop()  # rolling: one process at a time gets the new files
        serves[0] = Serve(new, tmp_path / "new-0.log")
        serves[0].evaluator()
        new_holders.add(_cluster(serves[0])["this_process"])
        _wait_for(lambda: len(history) == 2, "the new definition was not registered")
        # The processes still on the old files leave the changed SLO alone, and say so.
        _wait_for(
            lambda: all(_cluster(s)["definitions"]["withheld"] == [PAYMENTS] for s in serves[1:]),
            "old processes still evaluate the changed SLO",
        )
        view = _cluster(serves[0])
        assert view["definitions"]["generation"] == 2 and not view["definitions"]["superseded"]
        # A process restarted with the old files meanwhile registers nothing back.
        serves[1].stop(signal.SIGKILL)
        serves[1] = Serve(old, tmp_path / "old-again-1.log")
        serves[1].evaluator()
        view = _cluster(serves[1])["definitions"]
        assert view["superseded"] and view["this_process_generation"] == 1, view
        for n in (1, 2):
            serves[n].stop()
            serves[n] = Serve(new, tmp_path / f"new-{n}.log")
            serves[n].evaluator()
            new_holders.add(_cluster(serves[n])["this_process"])
        _wait_shared(ledger, {serve.process.pid for serve in serves})
        _wait_evaluated(ledger, live.end)
        assert all(_cluster(s)["definitions"]["withheld"] == [] for s in serves)
    finally:
        done.set()
        for serve in serves:
            serve.stop()
    watcher.join(timeout=5)
    assert [generation for _, generation in history] == [1, 2], history  # never back
    assert _registered(ledger)[:2] == (history[-1], 2)
    assert holders and set(holders) <= new_holders, (set(holders), new_holders)
    said = (tmp_path / "old-again-1.log").read_text(errors="replace")
    assert "superseded by generation 2" in said
    said = (tmp_path / "old-2.log").read_text(errors="replace")
    assert "not evaluating 1 SLO(s) registered with another definition" in said
