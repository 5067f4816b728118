"""Alert evaluation after every tick: rules judged from the ledger, states and outbox written.

Each SLO is judged at its checkpoint, the newest slice end the tick evaluated (with an
up-to-date ledger, the `due` slice end of the tick), so `engine.tick(now=T)` followed by
evaluation judges exactly the slices up to T and a rerun for the same slice changes nothing.
Window sums come from the ledger, never Prometheus, read for many SLOs at once
(`app.alerting.batch`).

The new states and every transition's event and notifications are written in one transaction
per SLO (the transactional outbox): a crash loses neither, and doubles neither. An SLO whose
judgement moves nothing but `evaluated_at` (the common case) is written with many others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from app.alerting import states
from app.alerting.batch import (
    PeriodTotals,
    Target,
    already_judged,
    group_targets,
    is_grouped,
    read_periods,
    read_windows,
    unchanged,
)
from app.alerting.conditions import Verdict
from app.alerting.document import (
    Document,
    alert_labels,
    event_document,
    idempotency_key,
    retired_document,
)
from app.alerting.facts import AlertFacts, build_facts
from app.alerting.judgement import advance
from app.alerting.routing import receivers_for
from app.alerting.summary import retired_summary
from app.alerting.transitions import AlertState, Position
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.ledger import WindowTotals
from app.slo.windows import Window, period_window
from app.store import registry
from app.store.errors import StoreError
from app.store.registry import StoredSLO
from app.store.store import Store

log = logging.getLogger(__name__)


@dataclass
class EvaluationResult:
    judged: dict[str, int] = field(default_factory=dict)  # SLO key → slice end judged
    transitions: list[states.Transition] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Context:
    """What one SLO's evaluation at `at` knows: its totals and where to send transitions."""

    definition: SLODefinition
    definitions: DefinitionSet
    slo_id: int
    at: int
    windows: dict[int, WindowTotals]
    period: PeriodTotals
    now: float


class AlertEvaluator:
    """Judges every active SLO's alert rules; thread-safe (one evaluation at a time)."""

    def __init__(
        self,
        store: Store,
        definitions: Callable[[], DefinitionSet],
        *,
        base_url: str,
        clock: Callable[[], float] = time.time,
        per_slo: bool = False,
    ) -> None:
        self.store = store
        self._definitions = definitions
        self.base_url = base_url
        self.clock = clock  # wall time, for outbox rows (their age is exported)
        self._lock = threading.Lock()
        # Judge SLO by SLO, each read and written on its own (the way before batching): the
        # reference the batched evaluation is tested against.
        self.per_slo = per_slo

    def on_tick(self, _result: object) -> None:
        """The engine's `after_tick` hook."""
        self.evaluate()

    def evaluate(self) -> EvaluationResult:
        with self._lock:
            result = EvaluationResult()
            definitions = self._definitions()
            with self.store.read() as connection:
                stored = registry.list_slos(connection, active_only=False)
            targets: list[Target] = []
            leaving: list[StoredSLO] = []  # unloaded SLOs, groups aged out or of those
            for slo in stored:
                definition = _as_registered(definitions.get(slo.key), slo) if slo.active else None
                try:
                    if definition is None:
                        leaving.append(slo)
                    elif slo.checkpoint is not None:
                        targets.append(Target.of(definition, definitions, slo, slo.checkpoint))
                    if is_grouped(definition, slo):
                        with self.store.read() as connection:
                            found = group_targets(connection, definition, definitions, slo, leaving)
                        targets.extend(found)
                except StoreError as error:
                    _failed(result, slo.key, error)
            self._retire_leaving(leaving, definitions, result)
            size = 1 if self.per_slo else _BATCH
            for first in range(0, len(targets), size):
                self._judge(targets[first : first + size], definitions, result)
            return result

    def _judge(
        self, targets: list[Target], definitions: DefinitionSet, result: EvaluationResult
    ) -> None:
        """Judge a batch: states and windows read together; SLOs whose judgement moves only
        `evaluated_at` written together; the others each in a transaction of its own."""
        try:
            with self.store.read() as connection:
                known = states.load_alerts_many(connection, [t.slo.id for t in targets])
                due = [t for t in targets if not already_judged(known[t.slo.id], t.rules, t.at)]
                windows = read_windows(connection, due)
        except StoreError as error:
            for target in targets:
                _failed(result, target.slo.key, error)
            return
        quiet: list[tuple[Target, list[states.StoredAlert]]] = []
        loud: list[tuple[Target, list[Verdict]]] = []
        for target in due:
            verdicts = target.judge(definitions, windows[target.slo.id])
            touched = None if self.per_slo else unchanged(verdicts, known[target.slo.id], target.at)
            if touched is None:
                loud.append((target, verdicts))
            else:
                quiet.append((target, touched))
        for target in self._touch(quiet, result):
            loud.append((target, target.judge(definitions, windows[target.slo.id])))
        periods = self._periods([target for target, _ in loud])
        for target, verdicts in loud:
            period = PeriodTotals(
                target.slo.id,
                period_window(target.definition.spec.period, target.at),
                periods.get(target.slo.id),
            )
            try:
                self._write(target, definitions, verdicts, windows[target.slo.id], period, result)
            except StoreError as error:
                _failed(result, target.slo.key, error)

    def _periods(self, targets: list[Target]) -> dict[int, WindowTotals]:
        """The period totals of SLOs written on the full path, read together (most of them
        have a firing alert to describe); on a failed read each is read when needed."""
        if self.per_slo or not targets:
            return {}
        try:
            with self.store.read() as connection:
                return read_periods(connection, targets)
        except StoreError:
            return {}

    def _touch(
        self, quiet: list[tuple[Target, list[states.StoredAlert]]], result: EvaluationResult
    ) -> list[Target]:
        """Move `evaluated_at` of the quiet SLOs in one transaction; returns those another
        judge wrote in between, to be judged on the full path (which guards double judgement)."""
        if not quiet:
            return []
        judged = [states.Judged(t.slo.id, alert, t.at) for t, touched in quiet for alert in touched]
        with self.store.begin() as connection:
            states.touch_evaluated(connection, judged)
            after = states.load_alerts_many(connection, [t.slo.id for t, _ in quiet])
        missed = []
        for target, _ in quiet:
            if already_judged(after[target.slo.id], target.rules, target.at):
                result.judged[target.definition.key] = target.at
            else:
                missed.append(target)
        return missed

    def _write(
        self,
        target: Target,
        definitions: DefinitionSet,
        verdicts: list[Verdict],
        windows: dict[int, WindowTotals],
        period: PeriodTotals,
        result: EvaluationResult,
    ) -> None:
        """The SLO's new states and transitions, in one transaction (the transactional outbox)."""
        definition, slo, at = target.definition, target.slo, target.at
        context = _Context(definition, definitions, slo.id, at, windows, period, self.clock())
        with self.store.begin() as connection:
            current = states.load_alerts(connection, slo.id, lock=True)
            updated = [
                self._apply(connection, context, verdict, current.get(verdict.rule.name), result)
                for verdict in verdicts
            ]
            names = {rule.name for rule in target.rules}
            for alert in current.values():
                if alert.tier not in names and alert.position.state is AlertState.FIRING:
                    reason = "the rule is no longer part of the SLO's alert policy"
                    updated.append(self._retire(connection, context, slo, alert, reason, result))
            states.save_alerts(connection, slo.id, [alert for alert in updated if alert])
        result.judged[definition.key] = at

    def _apply(
        self,
        connection: Connection,
        context: _Context,
        verdict: Verdict,
        current: states.StoredAlert | None,
        result: EvaluationResult,
    ) -> states.StoredAlert | None:
        """The alert's new standing (None: nothing to save), recording any transition."""
        rule, at = verdict.rule, context.at
        if current is not None and current.evaluated_at >= at:
            return None  # another evaluation judged this slice already
        moved = advance(
            verdict,
            current.position if current else None,
            at,
            lambda judged: self._facts(connection, context, judged),
        )
        event_id = current.event_id if current else None
        summary = (
            moved.summary if moved.summary is not None else (current.summary if current else "")
        )
        if moved.transition is not None and moved.facts is not None:
            previous = (
                states.load_document(connection, current.event_id)
                if current is not None and current.event_id is not None
                else None
            )
            transition = self._transition(context, moved.facts, moved.transition, summary, previous)
            event_id = self._record(connection, context, transition, result)
        return states.StoredAlert(rule.name, rule.severity, moved.position, at, event_id, summary)

    def _facts(self, connection: Connection, context: _Context, verdict: Verdict) -> AlertFacts:
        return build_facts(
            context.definition,
            context.definitions.catalog,
            verdict,
            context.at,
            period_totals=context.period.read(connection),
            long_totals=context.windows[verdict.rule.long_window],
            base_url=context.definitions.alerts.dashboard_url or self.base_url,
        )

    @staticmethod
    def _transition(
        context: _Context,
        facts: AlertFacts,
        state: AlertState,
        summary: str,
        previous: Document | None,
    ) -> states.Transition:
        rule = facts.verdict.rule
        key = idempotency_key(context.definition.key, rule.name, state.value, context.at)
        if state is AlertState.RESOLVED and previous is not None:
            labels = dict(previous["labels"])  # same label set: the same Alertmanager alert
            starts_at = _epoch(previous["starts_at"])
        else:
            labels, starts_at = alert_labels(context.definition, rule), context.at
        document = event_document(
            facts, state=state.value, key=key, summary=summary, labels=labels, starts_at=starts_at
        )
        return states.Transition(
            context.slo_id, rule.name, rule.severity, state, context.at, key, summary, document
        )

    @staticmethod
    def _record(
        connection: Connection,
        context: _Context,
        transition: states.Transition,
        result: EvaluationResult,
    ) -> int:
        alerts = context.definitions.alerts
        receivers = receivers_for(transition.document["labels"], alerts.routes, alerts.receivers)
        event_id = states.record_transition(connection, transition, receivers, context.now)
        result.transitions.append(transition)
        log.info(
            "alert %s %s %s at %d → %s",
            context.definition.key,
            transition.tier,
            transition.state.value,
            transition.t,
            ", ".join(receivers) or "no receiver",
        )
        return event_id

    def _retire(
        self,
        connection: Connection,
        context: _Context,
        slo: StoredSLO,
        alert: states.StoredAlert,
        reason: str,
        result: EvaluationResult,
    ) -> states.StoredAlert:
        """Resolve a firing alert whose rule (or SLO) is gone, so nothing stays firing forever."""
        previous = (
            states.load_document(connection, alert.event_id) if alert.event_id else None
        ) or {"labels": {}, "annotations": {}}
        key = idempotency_key(slo.key, alert.tier, AlertState.RESOLVED.value, context.at)
        summary = retired_summary(slo.key, alert.tier, reason)
        document = retired_document(previous, key=key, summary=summary, at=context.at)
        transition = states.Transition(
            slo.id,
            alert.tier,
            alert.severity,
            AlertState.RESOLVED,
            context.at,
            key,
            summary,
            document,
        )
        event_id = self._record(connection, context, transition, result)
        position = Position(AlertState.RESOLVED, context.at)
        evaluated_at = max(alert.evaluated_at, context.at)
        return states.StoredAlert(
            alert.tier, alert.severity, position, evaluated_at, event_id, summary
        )

    def _retire_leaving(
        self, leaving: list[StoredSLO], definitions: DefinitionSet, result: EvaluationResult
    ) -> None:
        """Retire what fires of SLOs and groups that left: states read a batch at a time (not
        one read per aged-out group), a write only where an alert fires (the rare case)."""
        for first in range(0, len(leaving), _BATCH):
            part = leaving[first : first + _BATCH]
            try:
                with self.store.read() as connection:
                    known = states.load_alerts_many(connection, [slo.id for slo in part])
                for slo in part:
                    if any(a.position.state is AlertState.FIRING for a in known[slo.id].values()):
                        with self.store.begin() as connection:
                            self._retire_all(connection, slo, definitions, result)
            except StoreError as error:
                for slo in part:
                    _failed(result, slo.key, error)

    def _retire_all(
        self,
        connection: Connection,
        slo: StoredSLO,
        definitions: DefinitionSet,
        result: EvaluationResult,
    ) -> None:
        current = states.load_alerts(connection, slo.id, lock=True)
        firing = [a for a in current.values() if a.position.state is AlertState.FIRING]
        if not firing:
            return
        at = max(slo.checkpoint or 0, *(alert.evaluated_at for alert in firing))
        definition = registry.definition_of(slo)
        period = PeriodTotals(slo.id, Window(at, at))  # never read: retiring says no figures
        context = _Context(definition, definitions, slo.id, at, {}, period, self.clock())
        reason = "the SLO is no longer loaded"
        retired = [self._retire(connection, context, slo, a, reason, result) for a in firing]
        states.save_alerts(connection, slo.id, retired)


_BATCH = 500  # SLOs per batched read: bounds the IN lists and the memory of one read


def _failed(result: EvaluationResult, key: str, error: StoreError) -> None:
    result.errors[key] = str(error)
    log.error("alert evaluation of %s failed: %s", key, error)


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _as_registered(loaded: SLODefinition | None, slo: StoredSLO) -> SLODefinition:
    """The definition alerts are judged by: as registered (definitions by generation), so a
    leader whose files are older or newer than the current set judges each SLO by the
    definition its ledger was evaluated with, and never retires an SLO it does not hold."""
    if loaded is not None and slo.declared_hash in (None, loaded.declared_hash):
        return loaded
    return registry.definition_of(slo)
