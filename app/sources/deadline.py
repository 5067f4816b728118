"""HTTP requests with a total wall-clock deadline, and cancellable while they wait.

requests' `timeout` bounds each socket read, not the request: a server that sends one byte a
second keeps a 5-second timeout happy forever. Here every read from the socket (status line,
headers and body alike) waits at most for what is left of the request's deadline, so a request
ends by its deadline however the server drips; and it polls a cancel event, so a shutdown does not
wait for a slow answer. No extra thread: the waiting happens in the socket reads themselves.

The hook is the `response_class` of the connection, which http.client reads the answer through.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ReadTimeoutError

# A blocked read wakes at least this often to notice a cancellation.
POLL_SECONDS = 0.25

_current = threading.local()  # the deadline and cancel event of the request on this thread


class DeadlineExceededError(TimeoutError):
    """The request's deadline passed (or it was cancelled) while waiting for the server.

    A `TimeoutError` (= socket.timeout), so urllib3 and requests report it as a read timeout.
    """


class _DeadlineSocketReader(io.RawIOBase):
    """Reads a socket, each read bounded by the remaining deadline of the current request."""

    def __init__(self, sock: socket.socket, socket_file: io.BufferedIOBase) -> None:
        super().__init__()
        self._sock = sock
        # http.client's own file of the socket: kept open with us because it holds the socket
        # open (a socket closed by its connection stays usable while a file of it is open).
        self._socket_file = socket_file
        self._deadline: float = getattr(_current, "deadline", float("inf"))
        self._cancel: threading.Event | None = getattr(_current, "cancel", None)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._socket_file.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        while True:
            if self._cancel is not None and self._cancel.is_set():
                raise DeadlineExceededError("cancelled")
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError("deadline passed")
            self._sock.settimeout(min(remaining, POLL_SECONDS))
            try:
                return self._sock.recv_into(buffer)
            except TimeoutError:
                continue  # check the deadline and the cancel event, then wait again


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp = io.BufferedReader(_DeadlineSocketReader(sock, self.fp))


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(*args, **kwargs)  # through HTTP(S)_PROXY too
        if manager.pool_classes_by_scheme.get("http") is HTTPConnectionPool:  # not SOCKS
            manager.pool_classes_by_scheme = _POOLS
        return manager


def deadline_session(url: str | None = None) -> requests.Session:
    """A requests session whose requests honour `bounded_get`'s deadline and cancel event.
    For a server on this host (`url` on a loopback address) answers come uncompressed: gzip
    cost the server and this process CPU and saved no time (a 30-day backfill's raw queries
    read about a gigabyte of JSON, compressed by Prometheus and inflated here for nothing)."""
    session = requests.Session()
    if url is not None and _on_loopback(url):
        session.headers["Accept-Encoding"] = "identity"
    adapter = _DeadlineAdapter(max_retries=0)  # retries are ours: capped, jittered, error-aware
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def bounded_get(
    session: requests.Session,
    url: str,
    *,
    params: Mapping[str, str],
    seconds: float,
    cancel: threading.Event | None = None,
    form: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """GET `url` (POST `params` as a form with `form`) and read its whole body within
    `seconds` of wall time, or raise.

    Raises requests' exceptions: `Timeout` when the deadline passes or `cancel` is set while
    waiting, `ConnectionError` and the like otherwise.
    """
    deadline = time.monotonic() + seconds
    _current.deadline, _current.cancel = deadline, cancel
    try:
        # Connecting is bounded by the same deadline; reading is bounded by the reader above;
        # without `stream` requests reads the whole body before it returns.
        if form:
            response = session.post(url, data=params, timeout=seconds, **kwargs)
        else:
            response = session.get(url, params=params, timeout=seconds, **kwargs)
    except requests.ConnectionError as error:
        # requests reports a read timeout in the body as a ConnectionError: name it a timeout.
        if error.args and isinstance(error.args[0], ReadTimeoutError):
            raise requests.ReadTimeout(str(error.args[0])) from error
        raise
    else:
        return response
    finally:
        _current.deadline, _current.cancel = float("inf"), None


def _on_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve anywhere
        return False
