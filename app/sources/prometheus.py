"""Range queries against Prometheus at exact slice ends, chunked, retried, and error-mapped.

A range query with `step = slice` evaluates the expression at every slice end `t` exactly, so all
signals of an SLO read the same instants, and history and live evaluation share one code path.

Each HTTP request has a total wall-clock deadline (`timeout`, see `deadline.py`); transient
failures (timeouts, 429, 5xx, refused connections) are retried with capped, jittered backoff;
everything else is named at once (see `answers.py` and `errors.py`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests

from app.slo.redaction import redact_url
from app.sources.answers import Answer, Unusable, Verdict, read_answer
from app.sources.deadline import bounded_get, deadline_session
from app.sources.errors import (
    MalformedAnswerError,
    NotPrometheusError,
    QueryCancelledError,
    QueryError,
    SourceAuthError,
    SourceTimeoutError,
    SourceUnavailableError,
)
from app.sources.retry import RetryPolicy
from app.sources.signals import Series

__all__ = ["PrometheusSource", "QueryObserver", "Series", "SourceConfig"]

# Called after every HTTP query: (seconds taken, outcome: "ok" or an error kind, see errors.py).
QueryObserver = Callable[[float, str], None]


@dataclass(frozen=True)
class SourceConfig:
    url: str = "http://127.0.0.1:9090"
    timeout: float = 15.0  # total wall time of one HTTP request, not of one socket read
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_points: int = 10_000
    concurrency: int = 4
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    verify_tls: bool = True


def prometheus_duration(seconds: float) -> str:
    """`seconds` as a Prometheus duration: whole milliseconds (Prometheus rejects `2.5s`)."""
    return f"{max(1, round(seconds * 1000))}ms"


class PrometheusSource:
    """Thread-safe reader of PromQL range queries with deadlines and capped, jittered retries."""

    def __init__(
        self,
        config: SourceConfig,
        *,
        observer: QueryObserver | None = None,
        sleep: Callable[[float], object] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        # The URL as messages show it (password masked): every message about the source is
        # built from this one.
        self.shown_url = redact_url(config.url)
        self._observer = observer
        self._cancel = threading.Event()
        self._sleep = sleep or self._cancel.wait
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._rng_lock = threading.Lock()
        self._local = threading.local()

    def cancel(self) -> None:
        """Abandon queries in flight and refuse new ones (shutdown); nothing half-read is used."""
        self._cancel.set()

    def _session(self) -> requests.Session:
        # One session (and so one connection pool) per thread: requests sessions are not
        # guaranteed thread-safe.
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = deadline_session()
            session.headers.update(self.config.headers)
            if self.config.bearer_token:
                session.headers["Authorization"] = f"Bearer {self.config.bearer_token}"
            session.auth = self.config.basic_auth
            self._local.session = session
        return session

    def _get(self, path: str, params: Mapping[str, str], seconds: float) -> Answer:
        """One HTTP GET within `seconds`; the answer whatever its status, or requests' errors."""
        response = bounded_get(
            self._session(),
            self.config.url.rstrip("/") + path,
            params=params,
            seconds=seconds,
            cancel=self._cancel,
            # Per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify=False`.
            verify=self.config.verify_tls,
        )
        return Answer(
            status=response.status_code,
            reason=response.reason or "",
            content_type=response.headers.get("Content-Type", ""),
            body=response.content,
        )

    def _observe(self, started: float, outcome: str) -> None:
        if self._observer is not None:
            self._observer(time.monotonic() - started, outcome)

    def query_range(
        self, query: str, start: int, end: int, step: int, *, deadline: float | None = None
    ) -> Series:
        """Evaluate `query` at `start, start+step, …, end` (one request; caller chunks).

        Each attempt ends within `timeout`; `deadline` (a `time.monotonic()` instant, e.g. the
        end of a tick) caps the whole query, retries and pauses included.
        """
        params = {
            "query": query,
            "start": str(start),
            "end": str(end),
            "step": str(step),
            "timeout": prometheus_duration(self.config.timeout),
        }
        last: Verdict | None = None  # the last failure that says something about the source
        attempts = 0
        for attempt in range(self.config.retry.attempts):
            if attempt:
                with self._rng_lock:
                    delay = self.config.retry.delay(attempt - 1, self._rng)
                if deadline is not None and time.monotonic() + delay >= deadline:
                    break
                self._sleep(delay)
            seconds = self.config.timeout
            if deadline is not None:
                seconds = min(seconds, deadline - time.monotonic())
            if seconds <= 0:
                break
            attempts += 1
            outcome = self._attempt(params, seconds)
            if not isinstance(outcome, Verdict):
                return outcome
            if outcome.kind == "timeout" and seconds < self.config.timeout:
                break  # cut short by the caller's deadline: says nothing about the source
            last = outcome
            if last.kind not in ("transient", "timeout"):
                raise self._error(last, query)
        if last is None:
            raise QueryCancelledError("the caller's deadline passed before an answer")
        raise self._error(last, query, attempts=attempts)

    def _attempt(self, params: Mapping[str, str], seconds: float) -> Series | Verdict:
        """One request within `seconds`: the series, or what went wrong (observed either way)."""
        if self._cancel.is_set():
            raise QueryCancelledError("the source is shutting down")
        started = time.monotonic()
        try:
            series = read_answer(self._get("/api/v1/query_range", params, seconds))
        except Unusable as unusable:
            verdict = unusable.verdict
        except requests.Timeout as error:
            verdict = self._cancelled_or(
                Verdict("timeout", f"no full answer within {seconds:g}s"), error
            )
        except requests.RequestException as error:
            verdict = self._cancelled_or(Verdict("transient", _describe(error)), error)
        else:
            self._observe(started, "ok")
            return series
        self._observe(started, self._error(verdict, params["query"]).kind)
        return verdict

    def _cancelled_or(self, verdict: Verdict, error: Exception) -> Verdict:
        if self._cancel.is_set():
            raise QueryCancelledError("the source is shutting down") from error
        return verdict

    def _error(
        self, verdict: Verdict, query: str, attempts: int | None = None
    ) -> QueryError | MalformedAnswerError | SourceUnavailableError:
        """The project's exception for what an answer meant."""
        url = self.shown_url
        if verdict.kind == "query_error":
            return QueryError(verdict.message, query=query, error_type=verdict.error_type)
        if verdict.kind == "malformed":
            return MalformedAnswerError(verdict.message, query=query, url=url)
        if verdict.kind == "not_prometheus":
            return NotPrometheusError(verdict.message, url=url)
        if verdict.kind == "auth":
            return SourceAuthError(verdict.message, url=url)
        message = (
            verdict.message
            if attempts is None
            else f"{verdict.message} (after {attempts} attempts)"
        )
        if verdict.kind == "timeout":
            return SourceTimeoutError(message, url=url)
        return SourceUnavailableError(message, url=url)

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
        """Whether Prometheus answers its root page right now (no retries, same deadline)."""
        try:
            return 200 <= self._get("/", {}, self.config.timeout).status < 300
        except requests.RequestException:
            return False


def _describe(error: requests.RequestException) -> str:
    return f"{type(error).__name__}: {error}"
