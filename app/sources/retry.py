"""Capped exponential backoff with full jitter (AWS Builders' Library): retries that spread out.

Pure arithmetic, shared by the Prometheus adapter (query retries) and the alert dispatcher
(notification retries), so both back off the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


def full_jitter(retry: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry `retry` (0-based): uniform in [0, min(cap, base · 2^retry)].

    Full jitter rather than "base · 2^retry ± a little": many clients failing at once (every
    notification queued while a receiver was down) then spread over the whole interval instead
    of arriving together when it comes back.
    """
    # Capping the exponent first keeps 2**retry finite after thousands of retries.
    ceiling = cap if retry >= 62 else min(cap, base * 2**retry)
    return rng.uniform(0.0, ceiling)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # the first try plus three retries
    base: float = 0.5
    cap: float = 8.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry `retry` (0-based): uniform in [0, min(cap, base · 2^retry)]."""
        return full_jitter(retry, self.base, self.cap, rng)
