"""The adapter's own exceptions; library exceptions never leave `app.sources`.

SourceError                       `kind` names it in /metrics and in stored errors
├── QueryError                    the query is at fault (bad PromQL, too heavy): only its SLO is
│                                 marked; a backfill job of it fails
├── MalformedAnswerError          the source answered the Prometheus API with an unusable answer
│                                 (no `data`, `result` a string, a non-numeric value): only its
│                                 SLO is marked; its backfill job stays resumable
├── QueryCancelledError           abandoned: the process is stopping, or the caller's deadline
│                                 passed before any answer; nothing is recorded
└── SourceUnavailableError        the source cannot answer right now: everything waits, resumable
    ├── SourceTimeoutError        no full answer within the per-query deadline
    ├── NotPrometheusError        something answered, but not the Prometheus API (HTML, junk)
    └── SourceAuthError           the source refused our credentials (401/403): not retried
        └── CredentialsUnreadableError  a credential file could not be read: nothing was sent
"""

from __future__ import annotations


class SourceError(Exception):
    """Base of everything the Prometheus adapter raises."""

    kind = "source_error"


class QueryError(SourceError):
    """Prometheus refused or failed one query; carries Prometheus' own message."""

    kind = "query_error"

    def __init__(self, message: str, *, query: str, error_type: str | None = None) -> None:
        self.message = message
        self.query = query
        self.error_type = error_type
        super().__init__(f"{error_type or 'error'}: {message} (query: {query})")


class MalformedAnswerError(SourceError):
    """The answer had the Prometheus API's envelope but not a usable range-query result."""

    kind = "malformed"

    def __init__(self, message: str, *, query: str, url: str) -> None:
        self.message = f"{url} answered a malformed result: {message}"
        self.query = query
        self.url = url
        super().__init__(f"{self.message} (query: {query})")


class QueryCancelledError(SourceError):
    """The query was abandoned (shutdown, or the caller's deadline, e.g. a tick's end, passed
    before the source had a fair chance to answer); the caller records nothing."""

    kind = "cancelled"


class SourceUnavailableError(SourceError):
    """Prometheus did not answer usefully after the capped retries."""

    kind = "unavailable"
    transient = True  # running again later may succeed; false when a person must fix something

    def __init__(self, message: str, *, url: str) -> None:
        self.message = message
        self.url = url
        super().__init__(self.describe())

    def describe(self) -> str:
        return f"Prometheus at {self.url} is unavailable: {self.message}"


class SourceTimeoutError(SourceUnavailableError):
    """No complete answer within the per-query deadline, on every attempt."""

    kind = "timeout"


class NotPrometheusError(SourceUnavailableError):
    """The URL answers, but not with the Prometheus HTTP API: a wrong URL, not an outage."""

    kind = "not_prometheus"
    transient = False

    def describe(self) -> str:
        return f"{self.url} answered, but not with the Prometheus API ({self.message})"


class SourceAuthError(SourceUnavailableError):
    """The source refused the credentials: retrying would only repeat the refusal."""

    kind = "auth"
    transient = False

    def describe(self) -> str:
        return (
            f"Prometheus at {self.url} refused the request ({self.message}): "
            "check the source's credentials (bearer token, username/password, headers)"
        )


class CredentialsUnreadableError(SourceAuthError):
    """A credential file (token, password) could not be read when a request was to be sent."""

    def describe(self) -> str:
        return f"no request sent to Prometheus at {self.url}: {self.message}"


# Every kind the adapter can report, for counters that must show zero before the first error.
ERROR_KINDS = tuple(
    cls.kind
    for cls in (
        QueryError,
        MalformedAnswerError,
        SourceUnavailableError,
        SourceTimeoutError,
        NotPrometheusError,
        SourceAuthError,
    )
)
