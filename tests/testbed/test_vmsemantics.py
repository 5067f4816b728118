"""VictoriaMetrics' rate() as the truth asks `when` with it on a VictoriaMetrics source (the
real server's answers are compared in tests/engine/test_accuracy_victoriametrics.py)."""

from __future__ import annotations

import pytest

from app.testbed.vmsemantics import max_prev_interval, without_resets


def test_a_drop_is_a_restart_unless_it_is_replica_jitter() -> None:
    # 100 -> 95 is less than an eighth down: jitter, 100 stands; 100 -> 10 is a restart.
    assert without_resets([90.0, 100.0, 95.0, 110.0, 10.0, 30.0]) == [
        90.0,
        100.0,
        100.0,
        110.0,
        120.0,
        140.0,
    ]


@pytest.mark.parametrize(
    ("scrape", "allowed"), [(1, 5), (3, 9), (5, 10), (15, 22.5), (30, 37.5), (60, 67.5)]
)
def test_the_previous_sample_may_be_a_little_more_than_a_scrape_interval_old(
    scrape: float, allowed: float
) -> None:
    assert max_prev_interval(scrape) == allowed
