"""Querying the test Prometheus directly (no app code), and comparing slices with the truth."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import requests

from app.runtime.loading import load_definitions
from app.slo.definitions import SLODefinition
from app.slo.queries import SignalRole, signals
from app.testbed.truth import SLOTruth

REPO = Path(__file__).resolve().parents[2]


def shipped_definitions() -> tuple[SLODefinition, ...]:
    result = load_definitions(REPO / "slo_definitions", REPO / "alerts")
    assert result.ok, result.problems
    return result.definitions.slos


def query_range(url: str, query: str, start: int, end: int, step: int = 60) -> dict[int, float]:
    """One-series range query: {timestamp: value}; an aggregation or filter gives at most one."""
    response = requests.get(
        f"{url}/api/v1/query_range",
        params={"query": query, "start": str(start), "end": str(end), "step": str(step)},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    result = body["data"]["result"]
    assert len(result) <= 1, f"{query} returned {len(result)} series"
    if not result:
        return {}
    return {int(float(t)): float(v) for t, v in result[0]["values"]}


@dataclass
class Mismatch:
    signal: str
    end: int
    prometheus: float | None
    truth: float | None

    def __str__(self) -> str:
        return f"{self.signal} at {self.end}: prometheus={self.prometheus} truth={self.truth}"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def compare_slo(url: str, definition: SLODefinition, truth: SLOTruth) -> list[Mismatch]:
    """Every signal of the SLO, rendered with a 1m window and queried per slice, vs the truth."""
    start, end = truth.ends.start, truth.ends.stop - 1
    mismatches: list[Mismatch] = []
    for signal in signals(definition.spec):
        observed = query_range(url, signal.render(60), start, end)
        for slice_ in truth.slices():
            got = observed.get(slice_.end)
            counted = got * 60 if got is not None and signal.unit == "rate" else got
            expected: float | None
            if signal.role is SignalRole.MODE_WHEN:
                assert signal.mode is not None
                if (got is not None) != slice_.mode_when[signal.mode]:
                    mismatches.append(
                        Mismatch(signal.key, slice_.end, got, slice_.mode_when[signal.mode])
                    )
                continue
            if signal.role is SignalRole.FRESHNESS:
                # Present exactly when the gauges were sampled inside the slice.
                if (got is not None) == slice_.no_data:
                    mismatches.append(Mismatch(signal.key, slice_.end, got, not slice_.no_data))
                continue
            if signal.role is SignalRole.THRESHOLD:
                if not slice_.no_data and (
                    got is None or not _close(got, slice_.threshold_value or 0)
                ):
                    mismatches.append(Mismatch(signal.key, slice_.end, got, slice_.threshold_value))
                continue
            if signal.role is SignalRole.MODE_BAD:
                assert signal.mode is not None
                expected = slice_.mode_bad[signal.mode]
            elif slice_.no_data:
                expected = None
            elif signal.role is SignalRole.TOTAL:
                expected = slice_.total
            elif signal.role is SignalRole.BAD:
                expected = slice_.bad
            else:
                expected = slice_.good
            if (counted is None) != (expected is None) or (
                counted is not None and expected is not None and not _close(counted, expected)
            ):
                mismatches.append(Mismatch(signal.key, slice_.end, counted, expected))
    return mismatches
