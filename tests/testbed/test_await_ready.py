"""The test bed's readiness wait names each way a server can fail to start."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from threading import Thread

import pytest

from app.testbed.prometheus import await_ready, free_port


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    yield process
    process.kill()
    process.wait()


def test_a_process_that_exits_is_named_as_exited() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert await_ready(process, f"http://127.0.0.1:{free_port()}/", 5) == "exited"
    assert await_ready(None, f"http://127.0.0.1:{free_port()}/", 5) == "exited"


def test_a_silent_port_times_out(sleeper: subprocess.Popen[bytes]) -> None:
    assert await_ready(sleeper, f"http://127.0.0.1:{free_port()}/-/ready", 0.5) == "timed out"


def test_an_answering_probe_is_ready(sleeper: subprocess.Popen[bytes]) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Ready)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/-/ready"
        assert await_ready(sleeper, url, 5) == "ready"
    finally:
        server.shutdown()
        server.server_close()
