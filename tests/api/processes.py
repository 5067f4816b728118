"""Real `faultline serve` processes for the API tests, and a TCP proxy to cut the database off.

`ServeProcess` runs `.venv/bin/faultline serve` on a free loopback port with its output in a
file; `TcpProxy` forwards a loopback port to PostgreSQL and can be stopped (every connection is
cut, new ones are refused) and started again on the same port: a database outage on demand.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx

from app.testbed.prometheus import free_port
from tests.engine.conftest import REPO

FAULTLINE = str(Path(sys.executable).with_name("faultline"))


class ServeProcess:
    """`faultline serve` with `FAULTLINE_*` settings from `env`; output in `log_path`."""

    def __init__(self, work_dir: Path, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work_dir / f"serve-{self.port}.log"
        environment = {
            **os.environ,
            "FAULTLINE_DEFINITIONS": str(REPO / "slo_definitions"),
            "FAULTLINE_ALERTS": str(REPO / "alerts"),
            "FAULTLINE_DASHBOARDS": str(REPO / "dashboards"),
            "FAULTLINE_INITIAL_BACKFILL": "1h",  # ticks at today's time: keep the first small
            "FAULTLINE_PROMETHEUS_RETRIES": "0",
            **env,
        }
        command = [FAULTLINE, "serve", "--port", str(self.port), *args]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=environment, cwd=work_dir, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_answering(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n{self.log()}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not answer within {timeout}s:\n{self.log()}")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def wait_for(condition: object, timeout: float, what: str) -> None:
    """Poll `condition()` until it is true, or fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s")


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target` while started; stopped, it cuts and refuses."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._guard = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._guard:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            _cut(listener)  # wakes the thread blocked in accept(); close() alone would not
            listener.close()
        for sock in sockets:
            _cut(sock)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # stopped: this listener is done
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._guard:
                stopped = self._listener is not listener
                if not stopped:
                    self._sockets += [client, upstream]
            if stopped:  # accepted while stop() ran: part of the outage too
                client.close()
                upstream.close()
                return
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _cut(source)
        _cut(sink)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


def every_answer(name: str, client: object) -> dict[str, str]:
    """Every read answer of the server, keyed by where it came from."""
    get = client.get  # type: ignore[attr-defined]
    answers = {f"{name} {path}": get(path).text for path in ("/readyz", "/metrics", "/healthz")}
    listing = get("/api/v1/slos", params={"limit": 100})
    answers[f"{name} /api/v1/slos"] = listing.text
    for item in listing.json()["items"]:
        base = f"/api/v1/slos/{item['key']}"
        for path in (base, f"{base}/history", f"{base}/definition", f"{base}/alerts"):
            answers[f"{name} {path}"] = get(path).text
    for path in ("/api/v1/backfills", "/api/v1/alerts", "/api/v1/attribution"):
        answers[f"{name} {path}"] = get(path).text
    return answers


def every_row(database: Path) -> str:
    """Every row of every table of the ledger, as text."""
    with closing(sqlite3.connect(database)) as connection:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        tables = [row[0] for row in connection.execute(query)]
        lines = []
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                lines.append(f"{table}: {row!r}")
    return "\n".join(lines)


def everything_seen(
    servers: dict[str, ServeProcess], token: str, ledger_of: dict[str, Path]
) -> dict[str, str]:
    """After each server's first tick: every answer it gives, then (stopped) its log and every
    row of its ledger, keyed `"NAME /path"`, `"NAME log"`, `"NAME ledger"`. Stops the servers."""
    seen: dict[str, str] = {}
    try:
        for name, server in servers.items():
            server.wait_answering()
            with server.client(token) as client:
                wait_for(
                    lambda client=client: (
                        "faultline_tick_duration_seconds_count 1.0" in client.get("/metrics").text
                    ),
                    60,
                    f"{name}: the first tick did not finish",
                )
                seen.update(every_answer(name, client))
    finally:
        for server in servers.values():
            server.stop()
    for name, server in servers.items():
        seen[f"{name} log"] = server.log()
        seen[f"{name} ledger"] = every_row(ledger_of[name])
    return seen
