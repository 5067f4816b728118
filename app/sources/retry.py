"""Retry policy of Prometheus queries; the backoff arithmetic lives in the pure core."""

from __future__ import annotations

from app.slo.backoff import RetryPolicy

__all__ = ["RetryPolicy"]
