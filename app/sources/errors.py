"""The adapter's own exceptions; library exceptions never leave `app.sources`.

SourceError
├── QueryError          the query is at fault (bad PromQL, too heavy): only its SLO is marked
└── SourceUnavailableError   Prometheus could not be reached or kept failing: everything waits
"""

from __future__ import annotations


class SourceError(Exception):
    """Base of everything the Prometheus adapter raises."""


class QueryError(SourceError):
    """Prometheus refused or failed one query; carries Prometheus' own message."""

    def __init__(self, message: str, *, query: str, error_type: str | None = None) -> None:
        self.message = message
        self.query = query
        self.error_type = error_type
        super().__init__(f"{error_type or 'error'}: {message} (query: {query})")


class SourceUnavailableError(SourceError):
    """Prometheus did not answer usefully after the capped retries."""

    def __init__(self, message: str, *, url: str) -> None:
        self.message = message
        self.url = url
        super().__init__(f"Prometheus at {url} is unavailable: {message}")
