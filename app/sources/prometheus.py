"""Range queries against Prometheus at exact slice ends, chunked, retried, and error-mapped.

A range query with `step = slice` evaluates the expression at every slice end `t` exactly, so all
signals of an SLO read the same instants, and history and live evaluation share one code path.
"""

from __future__ import annotations

import ast
import json
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from app.slo.redaction import redact_url
from app.sources.errors import QueryError, SourceUnavailableError
from app.sources.retry import RetryPolicy

# Values of one query: slice end → one value per returned series.
Series = dict[int, list[float]]
# Called after every HTTP query: (seconds taken, outcome: "ok" | "query_error" | "unavailable").
QueryObserver = Callable[[float, str], None]

# Prometheus answers these error types for problems of the query itself, not of the server.
_QUERY_FAULTS = {"bad_data", "execution", "timeout", "canceled", "not_acceptable"}
_STATUS = re.compile(r"^HTTP Status Code (\d+) \((.*)\)$", re.DOTALL)


@dataclass(frozen=True)
class SourceConfig:
    url: str = "http://127.0.0.1:9090"
    timeout: float = 15.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_points: int = 10_000
    concurrency: int = 4
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    verify_tls: bool = True


def _parse_error(error: PrometheusApiClientException) -> tuple[int | None, str, str | None]:
    """(HTTP status, message, Prometheus errorType) from the client's exception text."""
    match = _STATUS.match(str(error))
    if not match:
        return None, str(error), None
    status = int(match.group(1))
    try:
        body = ast.literal_eval(match.group(2))
        payload = json.loads(body.decode() if isinstance(body, bytes) else body)
        return status, str(payload.get("error", "")), payload.get("errorType")
    except (ValueError, SyntaxError, AttributeError):
        return status, match.group(2)[:500], None


class PrometheusSource:
    """Thread-safe reader of PromQL range queries with timeouts and capped, jittered retries."""

    def __init__(
        self,
        config: SourceConfig,
        *,
        observer: QueryObserver | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._observer = observer
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._rng_lock = threading.Lock()
        self._local = threading.local()

    def _client(self) -> PrometheusConnect:
        # One client (and so one connection pool) per thread: requests sessions are not
        # guaranteed thread-safe.
        client: PrometheusConnect | None = getattr(self._local, "client", None)
        if client is None:
            headers = dict(self.config.headers)
            if self.config.bearer_token:
                headers["Authorization"] = f"Bearer {self.config.bearer_token}"
            client = PrometheusConnect(
                url=self.config.url,
                headers=headers or None,
                disable_ssl=not self.config.verify_tls,
                # Retries are ours (capped, jittered, error-aware); the library's are off.
                retry=Retry(total=0, status_forcelist=[], raise_on_status=False),
                auth=self.config.basic_auth,
                timeout=self.config.timeout,
            )
            self._local.client = client
        return client

    def _observe(self, started: float, outcome: str) -> None:
        if self._observer is not None:
            self._observer(time.monotonic() - started, outcome)

    def query_range(self, query: str, start: int, end: int, step: int) -> Series:
        """Evaluate `query` at `start, start+step, …, end` (one request; caller chunks)."""
        params = {"timeout": f"{self.config.timeout:g}s"}
        last_problem = "no attempt made"
        for attempt in range(self.config.retry.attempts):
            if attempt:
                with self._rng_lock:
                    delay = self.config.retry.delay(attempt - 1, self._rng)
                self._sleep(delay)
            started = time.monotonic()
            try:
                result = self._client().custom_query_range(
                    query,
                    start_time=datetime.fromtimestamp(start, UTC),
                    end_time=datetime.fromtimestamp(end, UTC),
                    step=str(step),
                    params=params,
                )
            except PrometheusApiClientException as error:
                status, message, error_type = _parse_error(error)
                if error_type in _QUERY_FAULTS or (status is not None and 400 <= status < 500):
                    self._observe(started, "query_error")
                    raise QueryError(message, query=query, error_type=error_type) from None
                self._observe(started, "unavailable")
                last_problem = f"HTTP {status}: {message}"
                continue
            except (requests.RequestException, ValueError) as error:
                self._observe(started, "unavailable")
                last_problem = f"{type(error).__name__}: {error}"
                continue
            self._observe(started, "ok")
            return _series(result)
        raise SourceUnavailableError(
            f"{last_problem} (after {self.config.retry.attempts} attempts)",
            url=redact_url(self.config.url),
        )

    def chunks(self, start: int, end: int, step: int) -> list[tuple[int, int]]:
        """Split `[start, end]` so no request asks for more than `max_points` per series."""
        span = step * (self.config.max_points - 1)
        bounds = []
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(end, chunk_start + span)
            bounds.append((chunk_start, chunk_end))
            chunk_start = chunk_end + step
        return bounds

    def read(
        self, queries: Mapping[str, str], start: int, end: int, step: int
    ) -> dict[str, Series]:
        """Run several queries over the same instants; the first failure raises.

        Sequential on purpose: the engine runs SLOs in parallel, and one SLO's queries share
        their instants, not their threads. The range must fit one chunk (see `chunks`).
        """
        return {key: self.query_range(query, start, end, step) for key, query in queries.items()}

    def ping(self) -> bool:
        """Whether Prometheus answers its readiness endpoint right now (no retries)."""
        try:
            return bool(self._client().check_prometheus_connection())
        except requests.RequestException:
            return False


def _series(result: Any) -> Series:
    values: Series = {}
    for series in result or []:
        for timestamp, text in series.get("values", []):
            value = float(text)
            t = round(float(timestamp))
            # NaN and ±Inf are kept here; the pure core decides what they mean (never stored).
            values.setdefault(t, []).append(value)
    return values


class SharedReads:
    """One tick's view of Prometheus: identical queries over the same instants are asked once.

    SLOs often share failure-mode queries (every SLO behind the payment provider counts its
    timeouts the same way); within a tick they read the same instants, so one answer serves all.
    Lives for one tick only, so answers are never older than the tick.
    """

    # Answers kept at most: a backfill reads thousands of points per query, and an answer is
    # only worth keeping while other SLOs are at the same chunk.
    MAX_POINTS = 500_000

    def __init__(self, source: PrometheusSource) -> None:
        self.source = source
        self._answers: OrderedDict[tuple[str, int, int, int], Series] = OrderedDict()
        self._points = 0
        self._pending: dict[tuple[str, int, int, int], threading.Lock] = {}
        self._guard = threading.Lock()
        self.asked = 0
        self.shared = 0

    def chunks(self, start: int, end: int, step: int) -> list[tuple[int, int]]:
        return self.source.chunks(start, end, step)

    def query_range(self, query: str, start: int, end: int, step: int) -> Series:
        key = (query, start, end, step)
        with self._guard:
            lock = self._pending.setdefault(key, threading.Lock())
        with lock:  # a second asker waits for the first answer instead of asking again
            with self._guard:
                answer = self._answers.get(key)
                if answer is not None:
                    self._answers.move_to_end(key)
                    self.shared += 1
                    return answer
            answer = self.source.query_range(query, start, end, step)
            with self._guard:
                self.asked += 1
                self._answers[key] = answer
                self._points += len(answer)
                # Least recently used answers go first; one is asked again if still needed.
                while self._points > self.MAX_POINTS and len(self._answers) > 1:
                    _, dropped = self._answers.popitem(last=False)
                    self._points -= len(dropped)
            return answer

    def read(
        self, queries: Mapping[str, str], start: int, end: int, step: int
    ) -> dict[str, Series]:
        return {key: self.query_range(query, start, end, step) for key, query in queries.items()}
