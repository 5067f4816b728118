"""`faultline demo` as the README starts it: answers within 60 s, stops cleanly on SIGINT."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from app.testbed.alertmanager import find_alertmanager
from app.testbed.prometheus import free_port

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

FAULTLINE = str(Path(sys.executable).with_name("faultline"))


def demo_directories() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("faultline-demo-*"))


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in found.stdout.split()]


def test_the_demo_answers_within_a_minute_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    before = demo_directories()
    log = (tmp_path / "demo.log").open("w")
    started = time.monotonic()
    process = subprocess.Popen(
        [FAULTLINE, "demo", "--port", str(port)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
    )
    try:
        answered: dict[str, float] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while time.monotonic() - started < 60 and len(answered) < 3:
                assert process.poll() is None, (tmp_path / "demo.log").read_text()
                for path in ("/", "/api/v1/slos", "/metrics"):
                    if path in answered:
                        continue
                    try:
                        if client.get(path).status_code == 200:
                            answered[path] = time.monotonic() - started
                    except httpx.TransportError:
                        pass
                time.sleep(0.5)
            assert set(answered) == {"/", "/api/v1/slos", "/metrics"}, answered
            slos = client.get("/api/v1/slos").json()
            assert slos["total"] == 11
            # Its own Alertmanager, where its notifications go, is up while it runs.
            said = (tmp_path / "demo.log").read_text()
            found = re.search(r"Alertmanager (http://127\.0\.0\.1:\d+) receives", said)
            if find_alertmanager() is not None:
                assert found, said
                assert httpx.get(f"{found[1]}/-/ready", timeout=5).status_code == 200
        children = children_of(process.pid)
        expected = 1 if find_alertmanager() is None else 2
        assert len(children) == expected, "the demo runs Prometheus (and Alertmanager) as children"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    assert code == 0, (tmp_path / "demo.log").read_text()
    assert "temporary files removed" in (tmp_path / "demo.log").read_text()
    assert demo_directories() <= before  # nothing left behind
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
