"""Unattributed spend is ranked with the named failure modes (issue: a 1.4 % mode was called the
top failure mode while 98.6 % had no named cause)."""

from __future__ import annotations

from app.slo.report import AttributionOut, UnattributedOut
from app.slo.spenders import UNATTRIBUTED, describe, ranked, top_spender


def mode(name: str, share: float, bad: float) -> AttributionOut:
    return AttributionOut(
        failure_mode=name,
        design_choice="synchronous-call",
        dependency=None,
        consumed=share * 0.3,
        share=share,
        bad=bad,
    )


def test_unattributed_is_the_top_spender_when_it_spent_most() -> None:
    attribution = [mode("payment-slow", 0.014, 14.0)]
    rest = UnattributedOut(consumed=0.296, share=0.986, bad=986.0)
    top = top_spender(attribution, rest)
    assert top is not None and top.unattributed and top.name == UNATTRIBUTED
    assert describe(top) == "unattributed 98.6%"
    assert [s.name for s in ranked(attribution, rest)] == [UNATTRIBUTED, "payment-slow"]


def test_a_named_mode_leads_when_it_spent_most() -> None:
    attribution = [mode("payment-timeout", 0.594, 594.0), mode("orders-backlog", 0.0, 0.0)]
    rest = UnattributedOut(consumed=0.05, share=0.406, bad=406.0)
    top = top_spender(attribution, rest)
    assert describe(top) == "payment-timeout (synchronous-call) 59.4%"
    assert [s.name for s in ranked(attribution, rest)] == ["payment-timeout", UNATTRIBUTED]


def test_nothing_spent_has_no_top_spender() -> None:
    assert (
        top_spender(
            [mode("payment-timeout", 0.0, 0.0)], UnattributedOut(consumed=0, share=0, bad=0)
        )
        is None
    )
    assert describe(None) == "–"
