"""Seeded random draws and traffic seasonality, without numpy.

Every draw takes the caller's `random.Random`, so a scenario replays identically from its seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

# Above this mean, a normal approximation is indistinguishable from the exact distribution for
# our purposes and far cheaper than inversion.
_NORMAL_FROM = 30.0
SECONDS_PER_DAY = 86400


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean >= _NORMAL_FROM:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    # Inversion: walk the cumulative distribution until it passes a uniform draw.
    probability = math.exp(-mean)
    cumulative = probability
    draw = rng.random()
    count = 0
    limit = int(mean * 10) + 50
    while draw > cumulative and count < limit:
        count += 1
        probability *= mean / count
        cumulative += probability
    return count


def binomial(rng: random.Random, trials: int, probability: float) -> int:
    if trials <= 0 or probability <= 0:
        return 0
    if probability >= 1:
        return trials
    if probability > 0.5:
        return trials - binomial(rng, trials, 1.0 - probability)
    mean = trials * probability
    if trials <= 30:
        return sum(1 for _ in range(trials) if rng.random() < probability)
    if mean < _NORMAL_FROM:
        ratio = probability / (1.0 - probability)
        term = (1.0 - probability) ** trials
        cumulative = term
        draw = rng.random()
        count = 0
        while draw > cumulative and count < trials:
            count += 1
            term *= ratio * (trials - count + 1) / count
            cumulative += term
        return count
    deviation = math.sqrt(mean * (1.0 - probability))
    return min(trials, max(0, round(rng.gauss(mean, deviation))))


def split(rng: random.Random, trials: int, weights: Sequence[float]) -> list[int]:
    """A multinomial draw: `trials` spread over categories in proportion to `weights`."""
    counts: list[int] = []
    remaining = trials
    weight_left = float(sum(weights))
    for weight in weights[:-1]:
        if remaining <= 0 or weight_left <= 0:
            counts.append(0)
            continue
        drawn = binomial(rng, remaining, min(1.0, weight / weight_left))
        counts.append(drawn)
        remaining -= drawn
        weight_left -= weight
    counts.append(max(0, remaining))
    return counts


def traffic_factor(t: float) -> float:
    """Relative load at epoch second `t`: a daily cycle peaking at 19:00 UTC, quieter weekends."""
    hour = (t % SECONDS_PER_DAY) / 3600.0
    daily = 1.0 + 0.45 * math.cos(2.0 * math.pi * (hour - 19.0) / 24.0)
    weekday = (int(t // SECONDS_PER_DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weekly = 0.85 if weekday >= 5 else 1.0
    return daily * weekly
