"""Backtests scored against ground truth: a fast burn, a slow burn and a clean week.

The ledger holds the scenario's truth slice by slice (counts and per-mode credit from the
generator's own events). Replay's precision, recall, detection and reset times are compared with
ones computed here by hand from the truth: tier conditions from trailing sums of the truth's
columns, incidents from its five-minute buckets, firings mapped by their short window.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.engine.replay import run_replay
from app.slo.alert_spec import AlertPolicy, IncidentRule, Tier
from app.slo.definitions import DefinitionSet
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus
from app.slo.replay_models import ReplayOut, ReplayRequest
from app.slo.whatif import Change, EditKind, ModeEdit
from app.store import ledger, registry
from app.store.store import Store
from app.store.tables import alert_events, alert_states, notifications
from app.testbed.dataset import generate
from app.testbed.scenarios import backtest_week
from app.testbed.truth import GroundTruth, SLOTruth
from tests.alerting.support import only, shipped

CHECKOUT = "checkout/checkout-success"
START = 1_709_510_400  # 2024-03-04 00:00 UTC
INCIDENTS = IncidentRule(min_consumed=0.05)  # 9 days of data: each burn is 5-15 % of it
BASE_URL = "http://faultline.test"


@dataclass(frozen=True)
class Week:
    store: Store
    definitions: DefinitionSet
    truth: SLOTruth
    facts: dict[str, float]
    url: str

    @property
    def first(self) -> int:
        return self.truth.ends.start

    @property
    def last(self) -> int:
        return self.truth.ends[-1]

    def replay(self, change: Change | None = None) -> ReplayOut:
        request = ReplayRequest(
            slos=(CHECKOUT,),
            start=str(self.first - 60),
            end=str(self.last),
            change=change or Change(),
        )
        return run_replay(self.store, self.definitions, request, base_url=BASE_URL, now=self.last)


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    named = backtest_week(START)
    truth = GroundTruth(generate(named.scenario)).slo(CHECKOUT)
    base = only(shipped(), CHECKOUT)
    definitions = replace(base, alerts=replace(base.alerts, incidents=INCIDENTS))
    path: Path = tmp_path_factory.mktemp("week") / "ledger.db"
    url = f"sqlite:///{path}"
    store = Store(url).open()
    with store.begin() as connection:
        registry.sync_definitions(connection, definitions.slos, START)
        stored = registry.get_slo(connection, CHECKOUT)
        assert stored is not None
        records = [_record(truth, t) for t in truth.ends]
        for chunk in range(0, len(records), 1440):
            ledger.write_slices(connection, stored.id, records[chunk : chunk + 1440])
        registry.advance_checkpoint(connection, stored.id, truth.ends[0], truth.ends[-1], 60)
    yield Week(store, definitions, truth, dict(named.facts), url)
    store.close()


def _record(truth: SLOTruth, t: int) -> SliceRecord:
    slice_truth = truth.at(t)
    if slice_truth.no_data:
        return SliceRecord(t=t, status=SliceStatus.NO_DATA)
    return SliceRecord(
        t=t,
        status=SliceStatus.OK,
        total=slice_truth.total,
        bad=slice_truth.bad,
        unattributed=slice_truth.unattributed,
        modes={m: ModeSlice(credited=c) for m, c in slice_truth.attributed.items()},
    )


class ByHand:
    """The backtest computed from the truth's columns, independently of app.slo and app.alerting."""

    def __init__(self, truth: SLOTruth, budget: float, period_total: float) -> None:
        self.truth, self.budget, self.period_total = truth, budget, period_total
        self.ends = list(truth.ends)
        self.total = [0.0, *accumulate(truth.total)]
        self.bad = [0.0, *accumulate(truth.bad)]

    def sums(self, end: int, seconds: int) -> tuple[float, float]:
        hi, lo = bisect_right(self.ends, end), bisect_right(self.ends, end - seconds)
        return self.total[hi] - self.total[lo], self.bad[hi] - self.bad[lo]

    def burn(self, end: int, seconds: int) -> float:
        total, bad = self.sums(end, seconds)
        return 0.0 if total <= 0 else bad / total / self.budget

    def firings(
        self, tier: Tier, min_events: int, period: int = 30 * 86400
    ) -> list[tuple[int, int | None]]:
        factor = tier.budget_fraction * period / tier.long_window
        guard = max(min_events, math.ceil(1 / (factor * self.budget) - 1e-9)) if min_events else 0
        found: list[tuple[int, int | None]] = []
        fired: int | None = None
        for t in self.ends:
            holds = (
                self.sums(t, tier.long_window)[0] >= guard
                and self.burn(t, tier.long_window) > factor
                and self.burn(t, tier.short_window) > factor
            )
            if holds and fired is None:
                fired = t
            elif not holds and fired is not None:
                found.append((fired, t))
                fired = None
        return [*found, (fired, None)] if fired is not None else found

    def incidents(self) -> list[tuple[int, int]]:
        buckets: dict[int, list[float]] = {}
        for t in self.ends:
            row = buckets.setdefault(-(-t // 300) * 300, [0.0, 0.0])
            total, bad = self.sums(t, 60)
            row[0] += total
            row[1] += bad
        spans: list[list[int]] = []
        for end, (total, bad) in sorted(buckets.items()):
            if total <= 0 or bad / total / self.budget <= 1.0:
                continue
            if spans and end - 300 - spans[-1][1] <= 1800:
                spans[-1][1] = end
            else:
                spans.append([end, end])
        found = []
        for first, last in spans:
            bad = self.sums(last, last - first + 300)[1]
            if bad / (self.period_total * self.budget) >= INCIDENTS.min_consumed:
                found.append((first - 300, last))
        return found


def by_hand_times(hand: ByHand, tier: Tier, min_events: int) -> tuple[float | None, float | None]:
    """Median detection and reset times of one tier by hand."""
    incidents, firings = hand.incidents(), hand.firings(tier, min_events)
    detections, resets = [], []
    for start, end in incidents:
        mine = [(f, r) for f, r in firings if start < f and f - tier.short_window < end]
        if mine:
            detections.append(min(f for f, _ in mine) - start)
            if all(r is not None for _, r in mine):
                resets.append(max(r for _, r in mine if r is not None) - end)
    return (
        float(statistics.median(detections)) if detections else None,
        float(statistics.median(resets)) if resets else None,
    )


def by_hand_scores(
    hand: ByHand, tier: Tier, min_events: int
) -> tuple[float | None, float | None, int]:
    """(precision, recall, false positives) of one tier by hand."""
    incidents = hand.incidents()
    firings = hand.firings(tier, min_events)
    owners = [
        next((i for i, (s, e) in enumerate(incidents) if s < f and f - tier.short_window < e), None)
        for f, _ in firings
    ]
    caught = {owner for owner in owners if owner is not None}
    precision = None if not firings else sum(o is not None for o in owners) / len(firings)
    recall = None if not incidents else len(caught) / len(incidents)
    return precision, recall, sum(o is None for o in owners)


def _hand(week: Week) -> ByHand:
    whole = week.truth.window(week.first - 60, week.last)
    return ByHand(week.truth, 0.001, whole.total)


def test_replay_scores_equal_the_ones_by_hand(week: Week) -> None:
    hand = _hand(week)
    incidents = hand.incidents()
    assert len(incidents) == 2, "the fast and the slow burn are incidents; the blip is not"
    answer = week.replay().slos[0].actual
    assert [(i.start_t, i.end_t) for i in answer.incidents] == incidents
    policy = week.definitions.policy_for(week.definitions.slos[0])
    scores = {score.tier: score for score in answer.scores}
    for tier in policy.tiers:
        precision, recall, false_positives = by_hand_scores(hand, tier, policy.min_events)
        assert (scores[tier.name].precision, scores[tier.name].recall) == (precision, recall)
        assert scores[tier.name].false_positives == false_positives
        assert by_hand_times(hand, tier, policy.min_events) == (
            scores[tier.name].median_detection_seconds,
            scores[tier.name].median_reset_seconds,
        )
        firings = [a.t for a in answer.alerts if a.tier == tier.name and a.state == "firing"]
        assert firings == [f for f, _ in hand.firings(tier, policy.min_events)]
    assert scores["page-fast"].recall == 0.5  # pages for the fast burn only
    assert scores["any"].recall == 1.0


def _policy(*tiers: Tier, min_events: int = 100) -> AlertPolicy:
    return AlertPolicy(tiers=tiers, min_events=min_events, no_data_after=0)


def test_a_too_sensitive_policy_shows_false_positives(week: Week) -> None:
    # 1.2x over 1h and 5m: the 10-minute blip of unnamed 500s (about 1.9x over its hour)
    # pages too.
    touchy = Tier(
        name="touchy",
        severity="page",
        long_window=3600,
        short_window=300,
        budget_fraction=0.0016667,
    )
    changed = week.replay(Change(policy=_policy(touchy))).slos[0].changed
    assert changed is not None
    (score, _any) = changed.scores
    precision, recall, false_positives = by_hand_scores(_hand(week), touchy, 100)
    assert false_positives >= 1 and score.false_positives == false_positives
    assert (score.precision, score.recall) == (precision, recall)
    blip = week.facts["blip_start"], week.facts["blip_end"]
    assert any(
        a.incident is None and blip[0] < a.t <= blip[1] + 300
        for a in changed.alerts
        if a.state == "firing"
    )


def test_a_too_lax_policy_shows_the_missed_incident(week: Week) -> None:
    # Only a page above 72x: the 30x fast burn is missed.
    lax = Tier(name="lax", severity="page", long_window=3600, short_window=300, budget_fraction=0.1)
    replayed = week.replay(Change(policy=_policy(lax))).slos[0]
    assert replayed.changed is not None and replayed.difference is not None
    (score, _any) = replayed.changed.scores
    assert score.firings == 0 and score.missed == 2 and score.recall == 0.0
    assert by_hand_scores(_hand(week), lax, 100) == (None, 0.0, 0)
    assert [i.detected for i in replayed.changed.incidents] == [False, False]
    assert replayed.difference.missed == 2 - replayed.actual.scores[-1].missed


def test_without_a_mode_the_budget_loses_exactly_its_credited_share(week: Week) -> None:
    whole = week.truth.window(week.first - 60, week.last)
    truth_consumed = whole.bad / whole.total / 0.001
    share = whole.attributed["payment-timeout"] / whole.total / 0.001
    removed = week.replay(Change(modes=(ModeEdit(mode="payment-timeout", kind=EditKind.REMOVE),)))
    scaled = week.replay(
        Change(modes=(ModeEdit(mode="payment-timeout", kind=EditKind.SCALE, value=0.0),))
    )
    slo = removed.slos[0]
    assert slo.changed is not None and slo.difference is not None
    assert slo.actual.budget.consumed == pytest.approx(truth_consumed, rel=1e-9)
    assert slo.changed.budget.consumed == pytest.approx(truth_consumed - share, rel=1e-9)
    assert slo.difference.budget_consumed == pytest.approx(-share, rel=1e-9)
    assert slo.changed.incidents == [] and slo.changed.alerts == []
    assert scaled.slos[0].changed == slo.changed  # scaling by 0 is removing
    assert scaled.slos[0].difference == slo.difference


def test_scaling_and_capping_a_mode(week: Week) -> None:
    whole = week.truth.window(week.first - 60, week.last)
    share = whole.attributed["payment-timeout"] / whole.total / 0.001
    truth_consumed = whole.bad / whole.total / 0.001
    tenth = ModeEdit(mode="payment-timeout", kind=EditKind.SCALE, value=0.1)
    slo = week.replay(Change(modes=(tenth,))).slos[0]
    assert slo.changed is not None
    assert slo.changed.budget.consumed == pytest.approx(truth_consumed - 0.9 * share, rel=1e-9)
    # Capped at 0.5 % of each slice's requests: the fast burn (3 %) shrinks, the slow one
    # (0.4 %) stays. By hand, slice by slice from the truth.
    cap = ModeEdit(mode="payment-timeout", kind=EditKind.CAP, value=0.005)
    capped = week.replay(Change(modes=(cap,))).slos[0]
    assert capped.changed is not None
    cut = math.fsum(
        max(0.0, week.truth.at(t).attributed["payment-timeout"] - 0.005 * week.truth.at(t).total)
        for t in week.truth.ends
        if not week.truth.at(t).no_data
    )
    expected = (whole.bad - cut) / whole.total / 0.001
    assert capped.changed.budget.consumed == pytest.approx(expected, rel=1e-9)
    assert len(capped.changed.incidents) == 1  # the slow burn is left


def test_a_factor_is_the_budget_fraction_that_gives_it(week: Week) -> None:
    policy = week.definitions.policy_for(week.definitions.slos[0])
    by_factor = week.replay(Change(factors={"page-fast": 1.2})).slos[0].changed
    tiers = tuple(
        tier.model_copy(update={"budget_fraction": 1.2 * 3600 / (30 * 86400)})
        if tier.name == "page-fast"
        else tier
        for tier in policy.tiers
    )
    by_fraction = week.replay(Change(policy=policy.model_copy(update={"tiers": tiers})))
    assert by_factor is not None and by_factor == by_fraction.slos[0].changed
    page_fast = next(s for s in by_factor.scores if s.tier == "page-fast")
    assert page_fast.false_positives >= 1  # 1.2x pages on the blip too


def test_replayed_alerts_are_never_written_nor_delivered(week: Week) -> None:
    answer = week.replay(Change(modes=(ModeEdit(mode="payment-timeout", kind=EditKind.REMOVE),)))
    assert answer.slos[0].actual.alerts
    with week.store.read() as connection:
        for table in (alert_states, alert_events, notifications):
            assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_another_objective_divides_the_same_bad_events_by_its_budget(week: Week) -> None:
    """99.85 % instead of 99.9 %: the truth's bad over total, over a budget 1.5 times larger;
    the tiers' firings are the ones by hand at that budget (page-fast alone, for the fast burn)."""
    whole = week.truth.window(week.first - 60, week.last)
    slo = week.replay(Change(objective=99.85)).slos[0]
    assert slo.changed is not None and slo.difference is not None
    ratio = whole.bad / whole.total
    assert slo.changed.budget.consumed == pytest.approx(ratio / 0.0015, rel=1e-9)
    assert slo.difference.budget_consumed == pytest.approx(ratio / 0.0015 - ratio / 0.001, rel=1e-9)
    hand = ByHand(week.truth, 0.0015, whole.total)
    policy = week.definitions.policy_for(week.definitions.slos[0])
    fired = []
    for tier in policy.tiers:
        firings = [a.t for a in slo.changed.alerts if a.tier == tier.name and a.state == "firing"]
        assert firings == [f for f, _ in hand.firings(tier, policy.min_events)], tier.name
        fired += [tier.name] * len(firings)
    assert fired == ["page-fast"]


def test_another_period_turns_each_tiers_budget_fraction_into_another_factor(week: Week) -> None:
    """A 7-day period: 2 % of its budget in an hour is a 3.36x burn, not 14.4x; the firings are
    the ones by hand with each tier's factor over 7 days, and the budget consumed at the range's
    end is that of its last 7 days (the 30-day period held all 9 days of data)."""
    whole = week.truth.window(week.first - 60, week.last)
    slo = week.replay(Change(period="7d")).slos[0]
    assert slo.changed is not None
    week_end = week.truth.window(week.last - 7 * 86400, week.last)
    assert slo.changed.budget.consumed == pytest.approx(
        week_end.bad / week_end.total / 0.001, rel=1e-9
    )
    assert slo.actual.budget.consumed == pytest.approx(whole.bad / whole.total / 0.001, rel=1e-9)
    hand = ByHand(week.truth, 0.001, whole.total)
    policy = week.definitions.policy_for(week.definitions.slos[0])
    more = 0
    for tier in policy.tiers:
        firings = [a.t for a in slo.changed.alerts if a.tier == tier.name and a.state == "firing"]
        by_hand = [f for f, _ in hand.firings(tier, policy.min_events, period=7 * 86400)]
        assert firings == by_hand, tier.name
        more += len(by_hand) - len(hand.firings(tier, policy.min_events))
    assert more > 0  # a shorter period makes the same burn page sooner and more often
