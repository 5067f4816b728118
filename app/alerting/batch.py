"""The evaluator's batched reads: many SLOs' alert states and window totals in a few queries.

Judging every SLO after every tick read each SLO's states and windows in a transaction of its
own; here the states of a batch come in one query and SLOs judged over the same windows (the
same rule windows at the same slice end) share one `ledger.window_totals_many` read. An SLO
whose judgement changes nothing but `evaluated_at` (`unchanged`) needs no transaction of its
own either: the evaluator moves the `evaluated_at` of all of them in one statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from app.alerting import states
from app.alerting.conditions import AlertRule, Verdict, alert_rules, judge, window_lengths
from app.alerting.transitions import AlertState, step
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.groups import group_definition
from app.slo.ledger import WindowTotals
from app.slo.windows import Window, period_window, trailing
from app.store import ledger, registry
from app.store.registry import StoredSLO


@dataclass(frozen=True)
class Target:
    """One SLO (or group) to judge at slice end `at` by `rules`."""

    definition: SLODefinition
    slo: StoredSLO
    at: int
    rules: list[AlertRule]

    @classmethod
    def of(
        cls, definition: SLODefinition, definitions: DefinitionSet, slo: StoredSLO, at: int
    ) -> Target:
        return cls(definition, slo, at, alert_rules(definition, definitions.policy_for(definition)))

    def judge(self, definitions: DefinitionSet, windows: dict[int, WindowTotals]) -> list[Verdict]:
        policy = definitions.policy_for(self.definition)
        return judge(self.definition, policy, self.rules, windows)


@dataclass
class PeriodTotals:
    """The budget period's totals, read only when an alert has something to say: most ticks
    change no alert, and the period is the largest window to sum."""

    slo_id: int
    window: Window
    _totals: WindowTotals | None = None

    def read(self, connection: Connection) -> WindowTotals:
        if self._totals is None:
            (self._totals,) = ledger.window_totals(connection, self.slo_id, [self.window])
        return self._totals


def is_grouped(definition: SLODefinition | None, slo: StoredSLO) -> bool:
    """Whether the SLO has groups to judge (or, unloaded, to retire)."""
    if definition is not None:
        return bool(definition.spec.group_by)
    return bool(slo.definition["spec"].get("group_by"))


def group_targets(
    connection: Connection,
    definition: SLODefinition | None,
    definitions: DefinitionSet,
    slo: StoredSLO,
    leaving: list[StoredSLO],
) -> list[Target]:
    """A grouped SLO's groups, each judged as an SLO of its own (its labels on its alerts), in
    one read; those to retire (with their SLO, or aged out) added to `leaving` instead."""
    targets = []
    for group in registry.list_groups(connection, slo.id):
        if definition is None or group.group_labels is None or not group.active:
            leaving.append(group)
        elif group.checkpoint is not None:
            judged = group_definition(definition, group.group_labels)
            targets.append(Target.of(judged, definitions, group, group.checkpoint))
    return targets


def already_judged(known: dict[str, states.StoredAlert], rules: list[AlertRule], at: int) -> bool:
    return all(rule.name in known and known[rule.name].evaluated_at >= at for rule in rules)


def read_windows(
    connection: Connection, targets: Sequence[Target]
) -> dict[int, dict[int, WindowTotals]]:
    """Each target's rule windows (length → totals) at its slice end, by SLO id."""
    together: dict[tuple[int, tuple[int, ...]], list[Target]] = defaultdict(list)
    for target in targets:
        together[(target.at, tuple(window_lengths(target.rules)))].append(target)
    found: dict[int, dict[int, WindowTotals]] = {}
    for (at, lengths), members in together.items():
        windows = [trailing(at, seconds) for seconds in lengths]
        totals = ledger.window_totals_many(connection, [t.slo.id for t in members], windows)
        for slo_id, sums in totals.items():
            found[slo_id] = dict(zip(lengths, sums, strict=True))
    return found


def read_periods(connection: Connection, targets: Sequence[Target]) -> dict[int, WindowTotals]:
    """Each target's budget-period totals at its slice end, by SLO id (what a firing alert's
    or a transition's figures need), SLOs with the same period window read together."""
    together: dict[Window, list[int]] = defaultdict(list)
    for target in targets:
        together[period_window(target.definition.spec.period, target.at)].append(target.slo.id)
    found: dict[int, WindowTotals] = {}
    for window, slo_ids in together.items():
        for slo_id, (totals,) in ledger.window_totals_many(connection, slo_ids, [window]).items():
            found[slo_id] = totals
    return found


def unchanged(
    verdicts: Sequence[Verdict], known: dict[str, states.StoredAlert], at: int
) -> list[states.StoredAlert] | None:
    """The alerts whose `evaluated_at` alone moves when judged at `at`, or None when judging
    may change anything else (a transition, a pending `for`, a firing alert's summary, a new
    or re-severitied rule, an alert to retire): those take the evaluator's full write path."""
    if any(alert.position.state is AlertState.FIRING for alert in known.values()):
        return None  # a firing alert's summary is rewritten, or it is retired
    touched = []
    for verdict in verdicts:
        rule, current = verdict.rule, known.get(verdict.rule.name)
        if current is None or current.severity != rule.severity:
            return None
        if current.evaluated_at >= at:
            continue  # judged already: the full path would leave it as it is
        moved = step(current.position, verdict.holds, at, rule.for_seconds)
        if moved.transition is not None or moved.position != current.position:
            return None
        touched.append(current)
    return touched
