"""A tiny live exporter: serves the model's current values on `/metrics`, stepping it in real time.

Counters move continuously, as a real service's do: the model is kept one step ahead of the wall
clock, and each scrape shows the current step's events in proportion to the time elapsed in it
(whole events for whole-event counters), so a scrape every 15 s sees a quarter of a one-minute
step's requests each time and never a stalled counter. Gauges show the step's state. A demo can
backfill history from a scenario and then keep the same model running.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from app.testbed.exposition import render_text
from app.testbed.simulation import Simulation

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SERVED_KEPT = 2000


def _part(step: float, elapsed: float) -> float:
    """The share of a step's increase shown so far: whole events stay whole."""
    if step.is_integer():
        return float(math.floor(step * elapsed))
    return step * elapsed


class MetricsExporter:
    """HTTP server on `host:port` (0 = any free port) in a daemon thread."""

    def __init__(
        self,
        simulation: Simulation,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        timestamps: bool = False,
    ) -> None:
        self.simulation = simulation
        self.clock = clock
        self.timestamps = timestamps
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        # What the last scrapes were shown: (clock time, values), for tests to count against.
        self.served: deque[tuple[float, tuple[float, ...]]] = deque(maxlen=SERVED_KEPT)

    @property
    def address(self) -> str:
        """`host:port`, as a Prometheus scrape target."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}/metrics"

    def render(self) -> str:
        """Advance the model past now and render every series as it is at this moment."""
        with self._lock:
            now = self.clock()
            values = self.values_at(now)
            self.served.append((now, values))
            stamp = int(now * 1000) if self.timestamps else None
            return render_text(self.simulation.catalog, values, stamp)

    def values_at(self, now: float) -> tuple[float, ...]:
        """Every series at `now` (never earlier than before): the step ending after it, in part."""
        model = self.simulation
        while model.time <= now:
            model.step()
        elapsed = 1.0 - (model.time - now) / model.interval
        return tuple(
            value - step + _part(step, elapsed)
            for value, step in zip(model.values, model.increments, strict=True)
        )

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404, "only /metrics is served")
                    return
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Silence per-request logging."""

        return Handler
