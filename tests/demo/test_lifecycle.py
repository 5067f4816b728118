"""`faultline demo` as a person meets it: a busy port, the commands it prints, and stopping it
with SIGTERM or SIGHUP (a closed terminal) at any time. Real demo processes, one day of history.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.testbed.prometheus import free_port

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

FAULTLINE = str(Path(sys.executable).with_name("faultline"))
ROOT = Path(__file__).resolve().parents[2]
SLO_COUNT = 11


def demo_directories() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("faultline-demo-*"))


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in found.stdout.split()]


def gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" in status.read_text().lower()
    except OSError:
        return True


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log
            found = re.search(pattern, self.log, re.MULTILINE)
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not in the demo's log within {timeout}s:\n{self.log}")

    def wait_until_evaluated(self, timeout: float = 120) -> None:
        """Every SLO has data: the first evaluation (the backfill) is in the ledger."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5) as client:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log
                try:
                    items = client.get("/api/v1/slos", params={"limit": 100}).json()["items"]
                    if len(items) == SLO_COUNT and all(i["status"] == "ok" for i in items):
                        return
                except (httpx.TransportError, KeyError, ValueError):
                    pass
                time.sleep(1)
        raise AssertionError(f"the demo did not evaluate every SLO in {timeout}s:\n{self.log}")

    def stop(self, signum: signal.Signals, timeout: float = 60) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator[type[Demo]]:
    started: list[Demo] = []

    class Started(Demo):
        def __init__(self, days: int = 1) -> None:
            port = free_port()
            log_path = tmp_path / f"demo-{len(started)}.log"
            with log_path.open("w") as log:
                process = subprocess.Popen(
                    [FAULTLINE, "demo", "--port", str(port), "--days", str(days)],
                    stdout=log,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                    cwd=ROOT,  # as ./run.sh starts it
                )
            super().__init__(process, port, log_path)
            started.append(self)

    try:
        yield Started
    finally:
        for demo in started:
            if demo.process.poll() is None:
                demo.process.send_signal(signal.SIGINT)
                try:
                    demo.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    demo.process.kill()
                    demo.process.wait(timeout=10)


def assert_cleaned_up(demo: Demo, code: int, before: set[Path], prometheus: list[int]) -> None:
    assert code == 0, demo.log
    assert "temporary files removed" in demo.log
    assert demo_directories() <= before, "the demo left its temporary directory"
    assert prometheus and all(gone(pid) for pid in prometheus), "Prometheus still runs"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_while_serving_leaves_nothing_behind(start_demo, signum) -> None:
    before = demo_directories()
    demo = start_demo()
    exporter = demo.wait_for_log(r"live\s+exporter\s+http://127\.0\.0\.1:(\d+)/", 90)
    demo.wait_for_log(r"Press Ctrl-C", 30)
    prometheus = children_of(demo.process.pid)
    code = demo.stop(signum)
    assert_cleaned_up(demo, code, before, prometheus)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", int(exporter[1])), 2):
        pass  # the live exporter is gone with its process


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_while_building_history_leaves_nothing_behind(start_demo, signum) -> None:
    before = demo_directories()
    demo = start_demo(days=7)  # several seconds of building, so the signal lands inside it
    deadline = time.monotonic() + 30
    while not demo_directories() - before:
        assert time.monotonic() < deadline and demo.process.poll() is None, demo.log
        time.sleep(0.05)
    time.sleep(1)  # into the work: generating, promtool or Prometheus starting
    started = children_of(demo.process.pid)  # promtool or Prometheus, if running now
    code = demo.stop(signum)
    assert code == 0, demo.log
    assert demo_directories() <= before, demo.log
    assert "Press Ctrl-C" not in demo.log  # it really was stopped before serving
    assert all(gone(pid) for pid in started), started


def test_the_printed_commands_read_the_demos_ledger(start_demo) -> None:
    before = demo_directories()
    demo = start_demo()
    demo.wait_for_log(r"Press Ctrl-C", 90)
    commands = [shlex.split(line) for line in re.findall(r"^  \$ (.+)$", demo.log, re.MULTILINE)]
    assert len(commands) == 3, demo.log
    ledger = re.search(r"^Ledger: (sqlite:///\S+)$", demo.log, re.MULTILINE)
    assert ledger and f"{ledger[1]}" in demo.log
    demo.wait_until_evaluated()
    cwd = Path(tempfile.mkdtemp(prefix="faultline-elsewhere-"))  # no slo_definitions/ here
    try:
        results = [
            subprocess.run(
                command, capture_output=True, text=True, timeout=120, cwd=cwd, check=False
            )
            for command in commands
        ]
    finally:
        cwd.rmdir()
    for command, result in zip(commands, results, strict=True):
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    table, as_json, validated = results
    report = json.loads(as_json.stdout)
    assert len(report["slos"]) == SLO_COUNT
    assert all(item["events"]["total"] > 0 for item in report["slos"]), report
    for item in report["slos"]:
        assert item["key"] in table.stdout  # whole, never cut
    assert f"{SLO_COUNT} SLOs" in validated.stderr, validated.stderr
    prometheus = children_of(demo.process.pid)
    assert_cleaned_up(demo, demo.stop(signal.SIGHUP), before, prometheus)


def startup_seconds(tmp_path: Path) -> float:
    """What `faultline --help` takes here now: the CLI's start-up, before any command runs."""
    started = time.monotonic()
    subprocess.run([FAULTLINE, "--help"], capture_output=True, timeout=30, cwd=tmp_path, check=True)
    return time.monotonic() - started


def test_a_busy_port_fails_at_once_with_a_suggestion(tmp_path: Path) -> None:
    startup = startup_seconds(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = demo_directories()
        started = time.monotonic()
        result = subprocess.run(
            [FAULTLINE, "demo", "--port", str(port)],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    # At most 2 s; on a loaded machine, where start-up alone can take longer, at most half a
    # second more than start-up (the check itself is a bind on one socket).
    assert elapsed <= max(2.0, startup + 0.5), (elapsed, startup)
    assert f"port {port} on 127.0.0.1 is not available" in result.stderr
    suggested = re.search(r"faultline demo --port (\d+)", result.stderr)
    assert suggested and int(suggested[1]) != port, result.stderr
    assert demo_directories() <= before  # it built nothing
