"""Per-slice attribution of bad events to failure modes, exactly as DESIGN.md §1 defines it.

1. `bad` counts are credited directly; if together they exceed the slice's bad total (one bad
   request with two causes), they are scaled down proportionally to fit.
2. The rest of the bad total is split equally among modes whose `when` held in the slice.
3. What is left is unattributed: a failure mode nobody named yet.

Per slice, credited parts plus the unattributed part add up to the bad total, so every window of
the ledger adds up too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Attribution:
    credited: Mapping[str, float]
    unattributed: float


def attribute(
    bad_total: float,
    mode_bad: Mapping[str, float | None],
    mode_held: Mapping[str, bool | None],
) -> Attribution:
    """Split `bad_total` of one slice among failure modes; never negative, always adds up.

    `mode_bad` holds each mode's own bad count (None for modes without a `bad` signal);
    `mode_held` whether each mode's `when` condition held (None without a `when` signal).
    """
    if not math.isfinite(bad_total) or bad_total < 0:
        raise ValueError(f"a slice's bad total must be a finite count ≥ 0, not {bad_total}")
    modes = list(dict.fromkeys([*mode_bad, *mode_held]))
    credited = dict.fromkeys(modes, 0.0)
    if bad_total == 0:
        return Attribution(credited, 0.0)

    direct = {
        mode: count
        for mode, count in mode_bad.items()
        if count is not None and math.isfinite(count) and count > 0
    }
    if not direct and not any(mode_held.values()):
        return Attribution(credited, bad_total)  # nothing named explains this slice
    direct_sum = math.fsum(direct.values())
    scale = min(1.0, bad_total / direct_sum) if direct_sum > 0 else 0.0
    for mode, count in direct.items():
        credited[mode] = count * scale
    rest = max(0.0, bad_total - math.fsum(credited.values()))

    holding = [mode for mode in modes if mode_held.get(mode)]
    if holding and rest > 0:
        share = rest / len(holding)
        for mode in holding:
            credited[mode] += share
    # The remainder is computed by subtraction so that the parts add up to the total exactly,
    # whatever rounding the shares above picked up.
    unattributed = bad_total - math.fsum(credited.values())
    if unattributed < 0:
        # Only rounding can get here (at most a few ulps): take it from the largest credit.
        largest = max(credited, key=lambda mode: credited[mode])
        credited[largest] += unattributed
        unattributed = 0.0
    return Attribution(credited, unattributed)
