"""Capped exponential backoff with full jitter (AWS Builders' Library): retries that spread out."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # the first try plus three retries
    base: float = 0.5
    cap: float = 8.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry `retry` (0-based): uniform in [0, min(cap, base · 2^retry)]."""
        return rng.uniform(0.0, min(self.cap, self.base * 2**retry))
