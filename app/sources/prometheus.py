"""Range queries against Prometheus at exact slice ends, chunked, retried, and error-mapped.

A range query with `step = slice` evaluates the expression at every slice end `t` exactly, so all
signals of an SLO read the same instants, and history and live evaluation share one code path.

Each HTTP request has a total wall-clock deadline (`timeout`, see `deadline.py`); transient
failures (timeouts, 429, 5xx, refused connections) are retried with capped, jittered backoff;
everything else is named at once (see `answers.py` and `errors.py`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

import requests

from app.slo.redaction import redact_url
from app.sources import batching, sample_reads
from app.sources.answers import Answer, Unusable, Verdict, decoded, read_answer, read_tagged_answer
from app.sources.credentials import (
    Credential,
    CredentialError,
    Redactor,
    auth_headers,
    tls_arguments,
)
from app.sources.deadline import bounded_get, deadline_session
from app.sources.errors import (
    CredentialsUnreadableError,
    MalformedAnswerError,
    NotPrometheusError,
    QueryCancelledError,
    QueryError,
    SourceAuthError,
    SourceTimeoutError,
    SourceUnavailableError,
)
from app.sources.retry import RetryPolicy
from app.sources.signals import Matrix, Series

log = logging.getLogger(__name__)

__all__ = ["PrometheusSource", "QueryObserver", "Series", "SourceConfig", "SourceKind"]

# What an answer is read as: one query's series, or several queries' (`query_batch`).
Read = TypeVar("Read")

# Called after every HTTP query: (seconds taken, outcome: "ok" or an error kind, see errors.py).
QueryObserver = Callable[[float, str], None]


# What answers at the URL: decides how strictly `faultline validate` checks the query
# language, and how a range is bounded (see `closed_ranges`).
SourceKind = Literal["prometheus", "victoriametrics"]


@dataclass(frozen=True)
class SourceConfig:
    """Where the source is and how to talk to it. Secrets stay out of `repr`."""

    url: str = "http://127.0.0.1:9090"  # may end in a path prefix (Mimir: `/prometheus`)
    timeout: float = 15.0  # total wall time of one HTTP request, not of one socket read
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_points: int = 10_000
    concurrency: int = 4
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    bearer_token: Credential | None = field(default=None, repr=False)
    basic_auth: tuple[str, Credential] | None = field(default=None, repr=False)
    verify_tls: bool = True
    ca_file: Path | None = None  # CA bundle that signed the server's certificate
    client_cert: tuple[Path, Path | None] | None = None  # (certificate, key) for mutual TLS
    kind: SourceKind = "prometheus"
    # Long ranges of summed counts answered from raw samples (`app.sources.sample_reads`);
    # False asks the counting formula itself (benchmarks and tests compare the two).
    sample_counts: bool = True


def prometheus_duration(seconds: float) -> str:
    """`seconds` as a Prometheus duration: whole milliseconds (Prometheus rejects `2.5s`)."""
    return f"{max(1, round(seconds * 1000))}ms"


# Answers that name something a person must fix: reported at once, never asked again.
_NOT_RETRIED: dict[str, type[SourceUnavailableError]] = {
    "not_prometheus": NotPrometheusError,
    "auth": SourceAuthError,
    "credentials": CredentialsUnreadableError,
}


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
        self.redact = Redactor(
            (config.bearer_token, config.basic_auth[1] if config.basic_auth else None),
            config.headers,
        )
        self._verify, self._cert = tls_arguments(
            config.verify_tls, config.ca_file, config.client_cert
        )
        self._observer = observer
        self._cancel = threading.Event()
        self._sleep = sleep or self._cancel.wait
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._rng_lock = threading.Lock()
        self._local = threading.local()
        self._densities = sample_reads.Densities()  # what raw-sample answers held, per selector
        self._closed: bool | None = None  # how the server bounds a range (see closed_ranges)
        self._ask_again_at = 0.0

    def cancel(self) -> None:
        """Abandon queries in flight and refuse new ones (shutdown); nothing half-read is used."""
        self._cancel.set()

    def _session(self) -> requests.Session:
        # One session (and so one connection pool) per thread: requests sessions are not
        # guaranteed thread-safe.
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = deadline_session(self.config.url)
            session.headers.update(self.config.headers)
            self._local.session = session
        return session

    def _get(
        self, path: str, params: Mapping[str, str], seconds: float, *, form: bool = False
    ) -> Answer:
        """One HTTP GET within `seconds`; the answer whatever its status, or requests' errors.

        `path` is joined under the URL's own path, so `http://mimir/prometheus` asks
        `http://mimir/prometheus/api/v1/query_range`.
        """
        config = self.config
        try:
            # Read per request: a credential file may have been rotated since the last one.
            credentials = auth_headers(config.bearer_token, config.basic_auth)
        except CredentialError as error:
            raise Unusable(Verdict("credentials", str(error))) from None
        response = bounded_get(
            self._session(),
            config.url.rstrip("/") + path,
            params=params,
            seconds=seconds,
            cancel=self._cancel,
            form=form,
            headers=credentials,
            # Per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
            verify=self._verify,
            cert=self._cert,
        )
        body = response.content
        if not response.ok:  # an error page may echo what was sent: mask it before any excerpt
            body = self.redact(body.decode("utf-8", "replace"), *credentials.values()).encode()
        return Answer(
            status=response.status_code,
            reason=response.reason or "",
            content_type=response.headers.get("Content-Type", ""),
            body=body,
        )

    def _observe(self, started: float, outcome: str) -> None:
        if self._observer is not None:
            self._observer(time.monotonic() - started, outcome)

    def query_range(
        self, query: str, start: int, end: int, step: int, *, deadline: float | None = None
    ) -> Series:
        """`query_matrix` as values per instant."""
        return self.query_matrix(query, start, end, step, deadline=deadline).by_time()

    def query_matrix(
        self, query: str, start: int, end: int, step: int, *, deadline: float | None = None
    ) -> Matrix:
        """Evaluate `query` at `start, start+step, …, end` (one request; caller chunks).

        Each attempt ends within `timeout`; `deadline` (a `time.monotonic()` instant, e.g. the
        end of a tick) caps the whole query, retries and pauses included.
        """
        if self.config.kind == "prometheus" and self.config.sample_counts:
            densities = self._densities
            answer = sample_reads.from_samples(self, query, start, end, step, deadline, densities)
            if answer is not None:
                return answer
        return self._asked(_range(query, start, end, step), deadline, read_answer)

    def query_instant(
        self, query: str, at: int, read: Callable[[Answer], Read], *, deadline: float | None = None
    ) -> Read:
        """One instant query at `at`, its answer read by `read` (retried as `query_matrix`)."""
        return self._asked({"query": query, "time": str(at)}, deadline, read, path="/api/v1/query")

    def query_batch(
        self,
        queries: Sequence[str],
        start: int,
        end: int,
        step: int,
        *,
        deadline: float | None = None,
    ) -> list[Matrix]:
        """`query_matrix` of each of `queries`, asked in one request (`app.sources.batching`);
        any error is the whole request's: the caller asks the queries alone to learn whose."""
        read = partial(read_tagged_answer, tag=batching.TAG, count=len(queries))
        query = batching.tagged_query(queries)  # long: sent as a form, not in the URL
        return self._asked(_range(query, start, end, step), deadline, read, form=True)

    def _asked(
        self,
        asked: Mapping[str, str],
        deadline: float | None,
        read: Callable[[Answer], Read],
        *,
        form: bool = False,
        path: str = "/api/v1/query_range",
    ) -> Read:
        """One query's answer, as `read` reads it, with retries (see `query_matrix`)."""
        query = asked["query"]
        params = {**asked, "timeout": prometheus_duration(self.config.timeout)}
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
            outcome = self._attempt(path, params, seconds, read, form=form)
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

    def _attempt(
        self,
        path: str,
        params: Mapping[str, str],
        seconds: float,
        read: Callable[[Answer], Read],
        *,
        form: bool = False,
    ) -> Read | Verdict:
        """One request within `seconds`: the series, or what went wrong (observed either way)."""
        if self._cancel.is_set():
            raise QueryCancelledError("the source is shutting down")
        started = time.monotonic()
        try:
            series = decoded(read, self._get(path, params, seconds, form=form))
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
        # An answer may echo what was sent (a proxy's error page): mask the source's secrets.
        text = self.redact(verdict.message)
        if verdict.kind == "query_error":
            return QueryError(text, query=query, error_type=verdict.error_type)
        if verdict.kind == "malformed":
            return MalformedAnswerError(text, query=query, url=url)
        if verdict.kind in _NOT_RETRIED:
            return _NOT_RETRIED[verdict.kind](text, url=url)
        message = text if attempts is None else f"{text} (after {attempts} attempts)"
        if verdict.kind == "timeout":
            return SourceTimeoutError(message, url=url)
        return SourceUnavailableError(message, url=url)

    @property
    def closed_ranges(self) -> bool:
        """Prometheus 2.x closes a range at its start; VictoriaMetrics and Prometheus 3 do not.

        A Prometheus source is asked its version once (`/api/v1/status/buildinfo`); until it
        answers, and when the answer names no version (a proxy in front of something else),
        ranges are taken as closed, the Debian package's (2.x) way.
        """
        if self.config.kind == "victoriametrics":
            return False
        if self._closed is None and time.monotonic() >= self._ask_again_at:
            # Not asked again for a minute: a source that is down must not cost every SLO a
            # request more, and a hanging one must not hold every evaluation up.
            self._ask_again_at = time.monotonic() + 60
            self._closed = self._ask_range_form()
        return self._closed is not False

    def _ask_range_form(self) -> bool | None:
        """True/False from the server's major version; None (ask again later) when it could
        not be asked, so one unanswered attempt at startup is not taken as the answer."""
        try:
            answer = self._get("/api/v1/status/buildinfo", {}, min(self.config.timeout, 5.0))
        except (requests.RequestException, Unusable):
            return None
        closed = closed_ranges_of(answer.body)
        log.info("%s: %s ranges", self.shown_url, "closed" if closed else "left-open")
        return closed

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
    ) -> dict[str, Matrix]:
        """Run several queries over the same instants; the first failure raises.

        Sequential on purpose: the engine runs SLOs in parallel, and one SLO's queries share
        their instants, not their threads. The range must fit one chunk (see `chunks`).
        """
        return {key: self.query_matrix(query, start, end, step) for key, query in queries.items()}

    def ping(self) -> bool:
        """Whether the query API answers right now (no retries, same deadline).

        Asks `/api/v1/query?query=1`, not `/`: every Prometheus-compatible API serves it, under a
        path prefix and behind the tenant header and credentials too.
        """
        try:
            answer = self._get("/api/v1/query", {"query": "1"}, self.config.timeout)
        except (requests.RequestException, Unusable):
            return False
        return 200 <= answer.status < 300


def _range(query: str, start: int, end: int, step: int) -> dict[str, str]:
    return {"query": query, "start": str(start), "end": str(end), "step": str(step)}


def closed_ranges_of(buildinfo: bytes) -> bool:
    """Whether a server whose `/api/v1/status/buildinfo` answered `buildinfo` closes ranges at
    their start: Prometheus before 3.0 does, 3.x does not. No readable version: closed."""
    try:
        version = str(json.loads(buildinfo)["data"]["version"])
        major = int(version.lstrip("v").split(".")[0])
    except (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError):
        return True
    return major < 3


def _describe(error: requests.RequestException) -> str:
    return f"{type(error).__name__}: {error}"
