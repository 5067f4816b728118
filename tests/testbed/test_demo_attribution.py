"""The shipped demo tells the attribution story: on the demo's own 30 days of generated history,
named failure modes explain most of the budget spent on most SLOs, and the SLOs left unexplained
are the ones the demo means to leave for "the next failure mode to write".

The rule: named modes explain at least 70 % of the bad events (so of the budget spent) on at
least 9 of the 11 shipped SLOs; the two that do not are checkout-latency (slow checkouts of a
cause nobody named) and replica-lag (no failure mode at all), each under 30 %. The figures are
the generator's ground truth (`app.testbed.truth`), not Faultline's own arithmetic.
"""

from __future__ import annotations

from app.demo import HISTORY_DAYS
from app.testbed import generate
from app.testbed.scenarios import demo_history
from app.testbed.truth import GroundTruth
from tests.conftest import TEST_START

EXPLAINED = 0.70
UNEXPLAINED_ON_PURPOSE = {"checkout/checkout-latency", "orders/replica-lag"}


def test_named_modes_explain_most_spend_on_most_demo_slos() -> None:
    named = demo_history(TEST_START, HISTORY_DAYS * 1440)
    truth = GroundTruth(generate(named.scenario))
    explained: dict[str, float] = {}
    for key in truth.keys:
        whole = truth.slo(key).whole()
        assert whole.bad > 0, f"{key} spends no budget in the demo"
        explained[key] = sum(whole.attributed.values()) / whole.bad
    well = {key for key, share in explained.items() if share >= EXPLAINED}
    assert len(explained) == 11
    assert len(well) >= 9, explained
    assert set(explained) - well == UNEXPLAINED_ON_PURPOSE, explained
    for key in UNEXPLAINED_ON_PURPOSE:
        assert explained[key] < 0.30, (key, explained[key])
