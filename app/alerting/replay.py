"""The replay driver: an SLO's alert rules judged at every slice end of a past range.

The live driver (`app.alerting.evaluator`) judges each rule once per tick and writes states and
notifications. This one judges the same rules over a range of stored slices, writes nothing and
delivers nothing. Both decide with the same code: `judge` for the verdict, `advance` for the
state machine, `build_facts` and the summary texts for what a transition says.

A slice-by-slice walk would build tens of thousands of window totals per SLO. Instead the
series is summed for every slice end at once (`SliceSeries.sums`), which locates the slice ends
where a rule's state can change; only there is the rule judged from `totals` (the ledger's own
window sums, as the live evaluator reads them) and moved by `advance`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.alerting.conditions import AlertRule, RuleKind, Verdict, alert_rules, guard_events, judge
from app.alerting.facts import AlertFacts, build_facts
from app.alerting.judgement import advance
from app.alerting.transitions import AlertState, Position, step
from app.slo.alert_spec import AlertPolicy
from app.slo.burn_alerts import burn_rate_factor, effective_min_events
from app.slo.catalog import Catalog
from app.slo.definitions import SLODefinition
from app.slo.ledger import WindowTotals
from app.slo.series import Floats, Ints, SliceSeries, WindowSums
from app.slo.spec import Budgeting
from app.slo.windows import Window, period_seconds, period_window, trailing

# Window sums of the ledger (or of a changed ledger), as `app.store.ledger.window_totals`.
TotalsReader = Callable[[Sequence[Window]], list[WindowTotals]]
Holds = npt.NDArray[np.int8]  # per slice end: 1 holds, 0 does not, -1 cannot be judged


@dataclass(frozen=True)
class ReplayedTransition:
    """A transition the rule would have made; never delivered."""

    tier: str
    severity: str
    kind: RuleKind
    state: AlertState
    t: int
    summary: str
    facts: AlertFacts


@dataclass(frozen=True)
class Replay:
    """What to replay: one SLO, its policy, its stored slices and the ends to judge."""

    definition: SLODefinition
    policy: AlertPolicy
    catalog: Catalog
    base_url: str  # the alerts' dashboard links, as the live evaluator writes them
    series: SliceSeries  # from the longest rule window before the first end
    ends: Ints  # slice ends to judge, oldest first
    totals: TotalsReader


def replay_alerts(replay: Replay) -> list[ReplayedTransition]:
    """Every transition of every rule over `replay.ends`, in time order (rule order within)."""
    rules = alert_rules(replay.definition, replay.policy)
    located = [(rule, rule_holds(replay, rule)) for rule in rules]
    # Where the series says each rule moves, the ledger is read once for all of them.
    wanted = [
        (rule, int(replay.ends[index]))
        for rule, holds in located
        for index in _moves(replay.ends, holds, rule)
    ]
    windows = [window for rule, at in wanted for window in _windows(replay, rule, at)]
    totals = iter(replay.totals(windows) if windows else [])
    read: dict[tuple[str, int], list[WindowTotals]] = {
        (rule.name, at): [next(totals) for _ in _windows(replay, rule, at)] for rule, at in wanted
    }
    found: list[tuple[int, int, ReplayedTransition]] = []
    for order, (rule, holds) in enumerate(located):
        found.extend((moved.t, order, moved) for moved in _walk(replay, rule, holds, read))
    return [moved for _, _, moved in sorted(found, key=lambda item: item[:2])]


def _windows(replay: Replay, rule: AlertRule, at: int) -> list[Window]:
    """The verdict's windows (long, short) and the period the facts quote."""
    lengths = sorted({rule.long_window, rule.short_window})
    period = period_window(replay.definition.spec.period, at)
    return [*(trailing(at, seconds) for seconds in lengths), period]


def _moves(ends: Ints, holds: Holds, rule: AlertRule) -> list[int]:
    """Indices where the rule's standing changes, if the series' verdicts are the ledger's."""
    position: Position | None = None
    found = []
    for index in candidates(ends, holds, rule.for_seconds):
        moved = step(position, bool(holds[index] == 1), int(ends[index]), rule.for_seconds)
        if moved.transition is not None or _standing(moved.position) != _standing(position):
            found.append(index)
        position = moved.position
    return found


def rule_holds(replay: Replay, rule: AlertRule) -> Holds:
    """What `judge` would say of the rule at each end, from the series' window sums."""
    spec = replay.definition.spec
    long = replay.series.sums(replay.ends, rule.long_window)
    if rule.kind is RuleKind.NO_DATA:
        expected = max(1, rule.long_window // spec.slice_seconds)
        holds = (long.slices == 0) & (long.excluded == 0) & (long.no_data >= expected)
        return np.asarray(holds, dtype=np.int8)
    short = replay.series.sums(replay.ends, rule.short_window)
    factor = burn_rate_factor(rule.budget_fraction, period_seconds(spec.period), rule.long_window)
    firing = (_burn(long, spec.budget) > factor) & (_burn(short, spec.budget) > factor)
    if spec.effective_budgeting is Budgeting.OCCURRENCES:
        minimum = effective_min_events(replay.policy, spec.alerting)
        firing &= ~(long.total < guard_events(minimum, factor, spec.budget))
    judgeable = (long.slices > 0) & (short.slices > 0)
    return np.asarray(np.where(judgeable, firing.astype(np.int8), -1), dtype=np.int8)


def _burn(sums: WindowSums, budget: float) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sums.total > 0, sums.bad / sums.total, 0.0)
    return np.asarray(ratio / budget, dtype=np.float64)


def candidates(ends: Ints, holds: Holds, for_seconds: int) -> list[int]:
    """Indices where judging may change the rule's standing: the first of every run of equal
    judgeable verdicts, and where a run that holds has held for `for_seconds`. Anywhere else
    `step` leaves the standing as it was (a verdict of None never changes it)."""
    judged = np.flatnonzero(holds >= 0)
    if len(judged) == 0:
        return []
    values = holds[judged]
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    found = {int(judged[start]) for start in starts}
    if for_seconds > 0:
        stops = [*starts[1:], len(values)]
        for start, stop in zip(starts, stops, strict=True):
            if values[start] != 1:
                continue
            run = judged[start:stop]
            due = np.flatnonzero(ends[run] >= ends[run[0]] + for_seconds)
            if len(due):
                found.add(int(run[due[0]]))
    return sorted(found)


def _standing(position: Position | None) -> tuple[AlertState, int | None]:
    return (
        (AlertState.INACTIVE, None)
        if position is None
        else (position.state, position.pending_since)
    )


def _walk(
    replay: Replay,
    rule: AlertRule,
    holds: Holds,
    read: dict[tuple[str, int], list[WindowTotals]],
) -> list[ReplayedTransition]:
    definition = replay.definition
    position: Position | None = None
    moved: list[ReplayedTransition] = []
    for index in candidates(replay.ends, holds, rule.for_seconds):
        at = int(replay.ends[index])
        predicted = step(position, bool(holds[index] == 1), at, rule.for_seconds)
        if predicted.transition is None and _standing(predicted.position) == _standing(position):
            continue  # nothing can change here: no need to read the ledger
        lengths = sorted({rule.long_window, rule.short_window})
        found = read.get((rule.name, at))
        *sums, period = found if found is not None else replay.totals(_windows(replay, rule, at))
        windows = dict(zip(lengths, sums, strict=True))
        (verdict,) = judge(definition, replay.policy, [rule], windows)

        def describe(
            judged: Verdict,
            at: int = at,
            windows: dict[int, WindowTotals] = windows,
            period: WindowTotals = period,
        ) -> AlertFacts:
            return build_facts(
                definition,
                replay.catalog,
                judged,
                at,
                period_totals=period,
                long_totals=windows[rule.long_window],
                base_url=replay.base_url,
            )

        step_result = advance(verdict, position, at, describe, while_firing=False)
        position = step_result.position
        if step_result.transition is not None and step_result.facts is not None:
            summary = step_result.summary or ""
            moved.append(
                ReplayedTransition(
                    rule.name,
                    rule.severity,
                    rule.kind,
                    step_result.transition,
                    at,
                    summary,
                    step_result.facts,
                )
            )
    return moved
