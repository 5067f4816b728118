"""Everything the SLO page shows, gathered from the same read models the API serves.

The page's range resolves exactly like the API's `start`/`end` parameters, so the history,
attribution and report on the page are the API's answers for the same link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.engine import replay_views, spend, views
from app.engine.corrections import CorrectionInEffect, corrections_of
from app.engine.ranges import nice_step, resolve_range
from app.engine.service import Engine
from app.engine.view_models import Attribution, History
from app.engine.views import BurnSeries, RegisteredSLO
from app.slo.burn_alerts import burn_rate_factor, effective_tiers
from app.slo.definitions import SLODefinition
from app.slo.durations import format_duration
from app.slo.replay_models import SLOReplayOut
from app.slo.report import SLOReport
from app.slo.spec import RollingPeriod
from app.slo.whatif import Change
from app.slo.windows import STANDARD_WINDOWS, Window, calendar_bounds, period_seconds
from app.web import alerts
from app.web.burn_figure import Threshold
from app.web.spend_figures import Spend
from app.web.urlstate import ViewState, whatif_change

WINDOW_LABELS = {seconds: label for label, seconds in STANDARD_WINDOWS}
TOP_SPENDERS = 3


@dataclass(frozen=True)
class TopSpender:
    """A failure mode that spent budget, with the catalog's word on the design choice behind it."""

    failure_mode: str
    design_choice: str | None
    consumed: float  # share of the range's budget it spent: what not burning would have freed
    share: float  # share of the range's bad events
    period_consumed: float  # the same for the report's period
    introduces: str | None
    verification: str | None
    buy_back: str | None


@dataclass(frozen=True)
class SLOPageData:
    definition: SLODefinition
    report: SLOReport
    window: Window
    step: int
    history: History
    remaining: list[float]  # burn-down over the range, one per history point
    burn: list[BurnSeries]
    burn_step: int
    thresholds: list[Threshold]
    attribution: Attribution
    unattributed: float  # budget share over the range spent by unnamed causes
    unattributed_share: float
    spends: list[Spend]
    top: list[TopSpender]
    firing: list[alerts.Firing]
    alerts_note: str | None
    timeline: list[alerts.TimelineEvent]
    timeline_note: str
    corrections: list[CorrectionInEffect]
    live_since: int | None = None  # timeline events before it are replayed
    replay: SLOReplayOut | str | None = None  # the Replay panel's answer (or why there is none)
    period_end: int | None = None  # a calendar period in progress: when its budget resets


def _label(seconds: int) -> str:
    return WINDOW_LABELS.get(seconds) or format_duration(seconds)


def thresholds(engine: Engine, definition: SLODefinition) -> list[Threshold]:
    """Each alert tier's burn-rate factor for this SLO, as the alerting engine derives it
    (nominal period length, the SLO's policy and overrides)."""
    policy = engine.definitions.policy_for(definition)
    length = period_seconds(definition.spec.period)
    return [
        Threshold(
            tier=tier.name,
            severity=tier.severity,
            long_window=_label(tier.long_window),
            short_window=_label(tier.short_window),
            factor=burn_rate_factor(tier.budget_fraction, length, tier.long_window),
            long_seconds=tier.long_window,
            short_seconds=tier.short_window,
        )
        for tier in effective_tiers(policy, definition.spec.alerting)
    ]


def _calendar_end(definition: SLODefinition, window: Window, state: ViewState) -> int | None:
    """The end of the calendar period the page shows, when it shows a calendar period."""
    period = definition.spec.period
    if state.range != "period" or isinstance(period, RollingPeriod):
        return None
    return calendar_bounds(period, window.end).end


def _tier_burns(
    engine: Engine,
    definition: SLODefinition,
    stored: RegisteredSLO,
    window: Window,
    step: int,
    tiers: list[Threshold],
) -> list[BurnSeries]:
    """Burn rates over every window an alert tier of this SLO judges (long and short)."""
    windows = sorted(
        {(t.long_window, t.long_seconds) for t in tiers}
        | {(t.short_window, t.short_seconds) for t in tiers},
        key=lambda pair: pair[1],
    )
    return views.burn_rate_series(engine, definition, stored, window, step, windows)


@dataclass(frozen=True)
class Subject:
    """What an SLO page shows: an SLO, or one group of a grouped SLO (a ledger of its own read
    the same way, see `app.web.group_data`)."""

    definition: SLODefinition  # a group's: its SLO's under the group's key, with its labels
    stored: RegisteredSLO
    slo_key: str  # the loaded SLO's key (a group's: its SLO's)
    report: Callable[[int], SLOReport]  # the report at a moment
    attribution: Callable[[Window], Attribution]  # spend by failure mode over a range
    timeline: Callable[[Window], tuple[list[alerts.TimelineEvent], str, int | None]]
    what_if: Callable[[Window, Change], SLOReplayOut | str]


def subject_of(engine: Engine, key: str, base_url: str = "") -> Subject | None:
    """The SLO `key`, or None when it is not loaded or not registered."""
    found = views.lookup(engine, key)
    if found is None:
        return None
    definition, stored = found
    return Subject(
        definition,
        stored,
        key,
        report=lambda at: engine.report(key, at),
        attribution=lambda window: spend.slo_attribution(
            engine, key, stored, window, "failure_mode"
        ),
        timeline=lambda window: alerts.timeline(engine, key, window, base_url),
        what_if=lambda window, change: replay_views.what_if(engine, key, window, change, base_url),
    )


def gather(engine: Engine, key: str, state: ViewState, base_url: str = "") -> SLOPageData | None:
    """None when the SLO is not loaded or not registered. Raises RangeError for a bad range."""
    subject = subject_of(engine, key, base_url)
    return None if subject is None else gather_subject(engine, subject, state)


def _top_spenders(engine: Engine, attribution: Attribution, report: SLOReport) -> list[TopSpender]:
    period_by_mode = {row.failure_mode: row.consumed for row in report.attribution}
    catalog = engine.definitions.catalog
    top = []
    for group in attribution.groups[:TOP_SPENDERS]:
        if group.consumed <= 0:
            continue
        entry = catalog.get(group.design_choice) if group.design_choice else None
        top.append(
            TopSpender(
                failure_mode=group.group,
                design_choice=group.design_choice,
                consumed=group.consumed,
                share=group.slos[0].share if group.slos else 0.0,
                period_consumed=period_by_mode.get(group.group, 0.0),
                introduces=group.introduces,
                verification=group.verification,
                buy_back=entry.buy_back if entry else None,
            )
        )
    return top


def gather_subject(engine: Engine, subject: Subject, state: ViewState) -> SLOPageData:
    """The page's data for an SLO or a group. Raises RangeError for a bad range."""
    definition, stored = subject.definition, subject.stored
    key = definition.key
    start, end = state.range_params()
    now = engine.clock()
    window, step = resolve_range(start, end, now, definition=definition)
    at = resolve_range(None, end, now)[0].end  # as GET /api/v1/slos/{service}/{slo}?at=end
    report = subject.report(at)
    history = views.history_of(engine, definition, stored, window, step)
    burn_step = nice_step(window.seconds, 400, definition.spec.slice_seconds)
    tiers = thresholds(engine, definition)
    burn = _tier_burns(engine, definition, stored, window, burn_step, tiers)
    attribution = subject.attribution(window)
    unattributed = next((s for s in attribution.unattributed if s.slo == key), None)
    modes = {mode.name: mode for mode in definition.spec.failure_modes}
    spends = [
        Spend(
            design_choice=group.design_choice or "(none)",
            failure_mode=group.group,
            dependency=(modes[group.group].dependency if group.group in modes else None)
            or "(none)",
            consumed=group.consumed,
        )
        for group in attribution.groups
        if group.consumed > 0
    ]
    firing = alerts.firing(engine)
    timeline, timeline_note, live_since = subject.timeline(window)
    change = whatif_change(state)
    replay = (
        change if change is None or isinstance(change, str) else subject.what_if(window, change)
    )
    return SLOPageData(
        definition=definition,
        report=report,
        window=window,
        step=step,
        history=history,
        remaining=views.burndown(history),
        burn=burn,
        burn_step=burn_step,
        thresholds=tiers,
        attribution=attribution,
        unattributed=unattributed.consumed if unattributed else 0.0,
        unattributed_share=unattributed.share if unattributed else 0.0,
        spends=spends,
        top=_top_spenders(engine, attribution, report),
        firing=firing.of(stored.key),
        alerts_note=firing.unavailable,
        timeline=timeline,
        timeline_note=timeline_note,
        corrections=corrections_of(engine, subject.slo_key, window),
        live_since=live_since,
        replay=replay,
        period_end=_calendar_end(definition, window, state),
    )
