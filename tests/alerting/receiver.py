"""A real webhook receiver for tests: a threaded HTTP server that records what arrives.

It behaves like a careful production receiver: it checks the signature and its timestamp
(`app.alerting.signing.verify`, against `clock`) and hands each `Idempotency-Key` to its handler
once (`handled`), however often the key is delivered (`requests`). Tests can make it answer 503 (`fail`), hold requests open (`block`), or take it
off the network entirely (`stop`, then `start` on the same port: connection refused meanwhile).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.alerting.signing import SignatureError, verify
from app.testbed.prometheus import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def key(self) -> str | None:
        return self.headers.get("idempotency-key")

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.port = free_port()
        self.requests: list[Received] = []  # every request that reached the handler
        self.handled: dict[str, Received] = {}  # effective deliveries, by idempotency key
        self.bad_signatures: list[Received] = []
        self.refusals: list[str] = []  # why each of `bad_signatures` was refused
        self.clock: Callable[[], float] = time.time  # tests move it to replay "later"
        self.status = 200
        self.blocking = threading.Event()  # set: hold requests until `release`
        self.released = threading.Event()
        self.arrived = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                received = Received(self.path, headers, body, time.time())
                receiver._arrive(received)
                if receiver.blocking.is_set():
                    receiver.released.wait(30)
                status = receiver._handle(received)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket: senders get `connection refused`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _arrive(self, received: Received) -> None:
        with self.arrived:
            self.requests.append(received)
            self.arrived.notify_all()

    def _handle(self, received: Received) -> int:
        if self.status >= 300:
            return self.status
        if self.secret is not None and not self._signed(received):
            self.bad_signatures.append(received)
            return 401
        key = received.key
        if key is not None and key not in self.handled:
            self.handled[key] = received  # the handler's one effective delivery of this key
        return 200

    def _signed(self, received: Received) -> bool:
        assert self.secret is not None
        try:
            verify(self.secret, received.headers, received.body, self.clock())
        except SignatureError as error:
            self.refusals.append(str(error))
            return False
        return True

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Block until at least `count` requests reached the server."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.requests)} of {count} requests arrived")
                self.arrived.wait(left)

    def deliveries_per_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for received in self.requests:
            if received.key is not None:
                counts[received.key] = counts.get(received.key, 0) + 1
        return counts
