"""Replay: alert policies and design changes judged over a past range of the ledger.

For each SLO: what happened (the stored ledger, the loaded policy) and, when a change is asked,
what would have happened — budget consumed and policy state at the end of the range, budget
incidents in the range, every alert transition and how well the policy caught the incidents.
Reads only the ledger (slices for the alert walk, rollups for every window sum) and writes
nothing: replayed alerts are never delivered. `faultline replay`, `POST /api/v1/replay` and the
SLO page's Replay panel all answer through `run_replay`, so they show the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection

from app.alerting.conditions import RuleKind, alert_rules
from app.alerting.replay import Replay, ReplayedTransition, TotalsReader, replay_alerts
from app.alerting.transitions import AlertState
from app.engine import replay_series
from app.engine.replay_outcome import Outcome, difference, find_incidents, outcome_out
from app.slo.alert_spec import AlertPolicy
from app.slo.backtest import Firing, score_tiers
from app.slo.budget import budget_consumed, burn_rate
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.durations import DurationError, parse_duration
from app.slo.ledger import WindowTotals
from app.slo.policy_state import policy_state, windows_needed
from app.slo.replay_models import ReplayOut, ReplayRequest, SLOReplayOut
from app.slo.report import rfc3339
from app.slo.series import Ints, SliceSeries
from app.slo.timeparse import parse_time
from app.slo.whatif import (
    Change,
    changed_definition,
    changed_policy,
    edit_totals,
    unknown_modes,
    unknown_tiers,
)
from app.slo.windows import Window, align_down, period_window, trailing
from app.store import ledger, registry
from app.store.registry import StoredSLO
from app.store.store import Store

MAX_RANGE_SECONDS = 92 * 86400
# SLOs × slice ends judged: 100 SLOs over 30 days is 4.3 million.
MAX_SLICE_ENDS = 10_000_000
DEFAULT_SINCE = "30d"


class ReplayError(ValueError):
    """A replay that cannot be answered as asked; the message says what to change."""


def resolve_window(request: ReplayRequest, now: float) -> Window:
    """The range `(start, end]`, minute-aligned: `start`/`end`, or `since` before `end`."""
    if request.start is not None and request.since is not None:
        raise ReplayError("give either start or since, not both")
    try:
        end = align_down(parse_time(request.end, now) if request.end else int(now), 60)
        if request.start is not None:
            start = align_down(parse_time(request.start, now), 60)
        else:
            start = end - parse_duration(request.since or DEFAULT_SINCE)
    except (ValueError, DurationError) as error:
        raise ReplayError(f"range: {error}") from None
    if start >= end:
        raise ReplayError("range: start must be before end")
    if end - start > MAX_RANGE_SECONDS:
        raise ReplayError("range: at most 92 days")
    return Window(start, end)


def select_slos(definitions: DefinitionSet, request: ReplayRequest) -> list[SLODefinition]:
    if not request.slos:
        chosen = list(definitions.slos)
    else:
        missing = [key for key in request.slos if definitions.get(key) is None]
        if missing:
            raise ReplayError(f"no SLO loaded as {', '.join(missing)}")
        chosen = [d for key in dict.fromkeys(request.slos) if (d := definitions.get(key))]
    unknown = unknown_modes(request.change, {d.key: d for d in chosen})
    if unknown:
        raise ReplayError(f"no selected SLO has the failure mode {', '.join(unknown)}")
    policies = [request.change.policy or definitions.policy_for(d) for d in chosen]
    tiers = unknown_tiers(request.change, policies)
    if tiers:
        raise ReplayError(f"no selected SLO's policy has the tier {', '.join(tiers)}")
    return chosen


def run_replay(
    store: Store,
    definitions: DefinitionSet,
    request: ReplayRequest,
    *,
    base_url: str,
    now: float | None = None,
) -> ReplayOut:
    """Replay `request` over the ledger; raises ReplayError for a question it cannot answer."""
    moment = time.time() if now is None else now
    window = resolve_window(request, moment)
    chosen = select_slos(definitions, request)
    ends = len(chosen) * (window.seconds // min((d.spec.slice_seconds for d in chosen), default=60))
    if ends > MAX_SLICE_ENDS:
        raise ReplayError(
            f"too much at once: {ends} slice ends; choose fewer SLOs or a shorter range"
        )
    link = definitions.alerts.dashboard_url or base_url
    answers = []
    with store.read() as connection:
        for definition in chosen:
            stored = registry.get_slo(connection, definition.key)
            if stored is None:
                continue  # loaded but never evaluated: no history to replay
            answers.append(
                _replay_slo(
                    connection, stored, definition, definitions, request.change, window, link
                )
            )
    return ReplayOut(
        generated_at=rfc3339(int(moment)),
        start=rfc3339(window.start),
        end=rfc3339(window.end),
        start_t=window.start,
        end_t=window.end,
        change=None if request.change.empty else request.change,
        slos=answers,
    )


def _lookback(definitions: Sequence[SLODefinition], rules_windows: Sequence[int], at: int) -> int:
    longest = max(rules_windows, default=0)
    return min([at - longest, *(period_window(d.spec.period, at).start for d in definitions)])


def _replay_slo(
    connection: Connection,
    stored: StoredSLO,
    definition: SLODefinition,
    definitions: DefinitionSet,
    change: Change,
    window: Window,
    link: str,
) -> SLOReplayOut:
    policy = definitions.policy_for(definition)
    after = changed_definition(definition, change)
    after_policy = changed_policy(policy, change, after)
    edits = change.edits_for(definition)
    rules = [*alert_rules(definition, policy), *alert_rules(after, after_policy)]
    lengths = [r.long_window for r in rules]
    # A cap is applied slice by slice, so its period sums need the period's slices too.
    capped = bool(edits) and not change.linear
    first = (
        _lookback([definition, after], lengths, window.start)
        if capped
        else window.start - max(lengths, default=0)
    )
    modes = [m.name for m in definition.spec.failure_modes] if capped else [e.mode for e in edits]
    sides = [(definition, alert_rules(definition, policy))]
    if not change.empty:
        sides.append((after, alert_rules(after, after_policy)))
    loaded = replay_series.load(
        connection,
        stored.id,
        window,
        first,
        sides,
        edits,
        modes=modes,
        every_slice=capped,
        incident_bucket=definitions.alerts.incidents.bucket,
    )
    series, changed_series, judged = loaded.actual, loaded.changed, loaded.judged

    def from_ledger(windows: Sequence[Window]) -> list[WindowTotals]:
        return ledger.window_totals(connection, stored.id, windows)

    actual = _outcome(definition, policy, definitions, series, judged, from_ledger, window, link)
    answer = SLOReplayOut(
        key=definition.key,
        service=definition.service,
        slo=definition.name,
        slices=loaded.slices,
        actual=outcome_out(actual),
    )
    if change.empty:
        return answer
    reader: TotalsReader = from_ledger
    if edits and change.linear:

        def reader(windows: Sequence[Window]) -> list[WindowTotals]:
            return [edit_totals(totals, edits) for totals in from_ledger(windows)]

    elif edits:

        def reader(windows: Sequence[Window]) -> list[WindowTotals]:
            return [changed_series.totals(w) for w in windows]

    changed = _outcome(
        after, after_policy, definitions, changed_series, judged, reader, window, link
    )
    return answer.model_copy(
        update={"changed": outcome_out(changed), "difference": difference(actual, changed)}
    )


def _outcome(
    definition: SLODefinition,
    policy: AlertPolicy,
    definitions: DefinitionSet,
    series: SliceSeries,
    judged: Ints,
    reader: TotalsReader,
    window: Window,
    link: str,
) -> Outcome:
    spec = definition.spec
    replay = Replay(definition, policy, definitions.catalog, link, series, judged, reader)
    transitions = replay_alerts(replay)
    incidents = find_incidents(definition, definitions.alerts.incidents, series, window, reader)
    rules = alert_rules(definition, policy)
    burn_tiers = [rule.name for rule in rules if rule.kind is RuleKind.BURN]
    short = {rule.name: rule.short_window for rule in rules}
    firings = _firings(transitions, short)
    scores = score_tiers(burn_tiers, firings, incidents)
    budget_windows = sorted(windows_needed(definitions.alerts.budget_policy))
    period, *recent = reader(
        [period_window(spec.period, window.end), *(trailing(window.end, s) for s in budget_windows)]
    )
    consumed = budget_consumed(period, spec.budget)
    burns = {s: burn_rate(t, spec.budget) for s, t in zip(budget_windows, recent, strict=True)}
    state = policy_state(1.0 - consumed, burns, definitions.alerts.budget_policy)
    return Outcome(definition, consumed, state, incidents, transitions, firings, scores)


def _firings(transitions: Sequence[ReplayedTransition], short: dict[str, int]) -> list[Firing]:
    """Burn alerts from firing to resolution (open at the end of the range: unresolved)."""
    firings: list[Firing] = []
    open_at: dict[str, ReplayedTransition] = {}
    for moved in transitions:
        if moved.kind is not RuleKind.BURN:
            continue
        if moved.state is AlertState.FIRING:
            open_at[moved.tier] = moved
            continue
        fired = open_at.pop(moved.tier, None)
        if fired is not None:
            firings.append(Firing(moved.tier, moved.severity, short[moved.tier], fired.t, moved.t))
    firings.extend(Firing(f.tier, f.severity, short[f.tier], f.t, None) for f in open_at.values())
    return sorted(firings, key=lambda f: (f.fired_at, f.tier))
