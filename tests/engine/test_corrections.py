"""Budget corrections on a real ledger: a real Prometheus scenario, SQLite and PostgreSQL.

Ground truth comes from the test bed's own event counts: the consumed budget without the
excluded slices is computed here from the truth columns, never from the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

import pytest

from app.engine import backfill
from app.engine.corrections import create_correction, delete_correction
from app.engine.service import Engine
from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction
from app.slo.definitions import DefinitionSet
from app.slo.ledger import WindowTotals
from app.slo.report import SLOReport
from app.slo.windows import Window
from app.store import ledger, registry, status
from app.store.corrections import audit_trail
from app.testbed.truth import SLOTruth
from tests.conftest import RunningPrometheus
from tests.engine.conftest import shipped

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

KEY = "checkout/checkout-success"
LATENCY = "checkout/checkout-latency"


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def truth_consumed(truth: SLOTruth, start: int, end: int, excluded: Iterable[int] = ()) -> float:
    """(bad ÷ total) ÷ budget over the truth's slices in (start, end], leaving out `excluded`."""
    skip = set(excluded)
    positions = [k for k, t in enumerate(truth.ends) if start < t <= end and t not in skip]
    total = math.fsum(truth.total[k] for k in positions)
    bad = math.fsum(truth.bad[k] for k in positions)
    return bad / total / (1 - truth.objective / 100)


def period_start(engine: Engine, key: str, end: int) -> int:
    return epoch(engine.report(key, end).window.start.replace("Z", "+00:00"))


def rollups_agree_with_slices(engine: Engine, key: str, window: Window) -> None:
    """The hourly rollups (rebuilt by re-marking) sum to what the slices themselves say."""
    with engine.store.read() as connection:
        stored = registry.get_slo(connection, key)
        assert stored is not None
        [from_rollups] = ledger.window_totals(connection, stored.id, [window])
        from_slices = WindowTotals.of(ledger.read_slices(connection, stored.id, window))
    assert from_rollups.excluded_slices == from_slices.excluded_slices
    assert from_rollups.slices == from_slices.slices
    assert from_rollups.bad == pytest.approx(from_slices.bad, rel=1e-12)
    assert from_rollups.total == pytest.approx(from_slices.total, rel=1e-12)


def excluded_ends(engine: Engine, key: str, window: Window) -> list[int]:
    with engine.store.read() as connection:
        stored = registry.get_slo(connection, key)
        assert stored is not None
        return [r.t for r in ledger.read_slices(connection, stored.id, window) if r.excluded]


def incident_slices(running: RunningPrometheus) -> range:
    """Ends of the slices of fast_burn's incident: (incident_start, incident_end]."""
    facts = running.built.named.facts
    return range(int(facts["incident_start"]) + 60, int(facts["incident_end"]) + 60, 60)


def one_off(name: str, start: int, end: int) -> CorrectionSpec:
    return CorrectionSpec(
        name=name, category="deployment", note="bad deploy, rolled back", start=start, end=end
    )


def test_a_correction_over_a_past_incident_gives_back_exactly_its_share(
    prometheus_over: Callable[[str], RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    engine = engines(running.url, database_url, start, end)
    assert not engine.tick(now=end).errors
    truth = running.truth.slo(KEY)
    incident = incident_slices(running)
    since = period_start(engine, KEY, end)
    before = engine.report(KEY, end)
    assert before.budget.consumed == pytest.approx(truth_consumed(truth, since, end), rel=1e-9)

    spec = one_off("payment-provider-outage", incident.start - 60, incident.stop - 60)
    applied = create_correction(engine, Correction(spec, "checkout", "checkout-success"), "alice")
    assert applied.remarked == {KEY: len(incident)} == {KEY: 60}

    after = engine.report(KEY, end)
    expected = truth_consumed(truth, since, end, excluded=incident)
    assert after.budget.consumed == pytest.approx(expected, rel=1e-9)
    # The incident's share, exactly: what the truth says it spent is what came back.
    given_back = before.budget.consumed - after.budget.consumed
    assert given_back == pytest.approx(truth_consumed(truth, since, end) - expected, rel=1e-9)
    assert given_back > 0.5 * before.budget.consumed  # the incident was most of the spend
    assert after.excluded_slices == 60 and before.excluded_slices == 0
    assert excluded_ends(engine, KEY, Window(start, end)) == list(incident)
    rollups_agree_with_slices(engine, KEY, Window(start - start % 3600, end))
    # The status snapshot the lists read was refreshed with the corrected figures.
    with engine.store.read() as connection:
        snapshot = SLOReport.model_validate_json(status.reports(connection, [KEY])[KEY])
    assert snapshot.budget.consumed == after.budget.consumed
    assert snapshot.excluded_slices == 60
    # Other SLOs of the service are untouched by an SLO-scoped correction.
    assert excluded_ends(engine, LATENCY, Window(start, end)) == []

    created = applied.corrections[0]
    assert created is not None and created.id is not None
    removed = delete_correction(engine, created.id, "bob")
    assert removed.remarked == {KEY: 60}
    restored = engine.report(KEY, end)
    assert restored.budget.consumed == pytest.approx(before.budget.consumed, rel=1e-12)
    assert restored.excluded_slices == 0
    rollups_agree_with_slices(engine, KEY, Window(start - start % 3600, end))

    with engine.store.read() as connection:
        trail = audit_trail(connection, correction_id=created.id)
    assert [(entry.action, entry.actor) for entry in trail] == [
        ("delete", "bob"),
        ("create", "alice"),
    ]
    assert (
        trail[1].after is not None
        and trail[1].after["start"] == spec.model_dump(mode="json")["start"]
    )
    assert trail[0].before == trail[1].after and trail[0].after is None


def with_corrections(key: str, *specs: CorrectionSpec) -> DefinitionSet:
    """The shipped definitions with `specs` declared on SLO `key`, as if written in its YAML."""
    definitions = shipped()
    slos = tuple(
        replace(slo, spec=slo.spec.model_copy(update={"corrections": specs}))
        if slo.key == key
        else slo
        for slo in definitions.slos
    )
    return replace(definitions, slos=slos)


def test_declared_corrections_mark_slices_as_ticks_and_backfills_write_them(
    prometheus_over: Callable[[str], RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    incident = incident_slices(running)
    spec = one_off("outage", incident.start - 60, incident.stop - 60)
    definitions = with_corrections(KEY, spec)
    engine = engines(running.url, database_url, start, end, definitions)
    with engine.store.read() as connection:
        trail = audit_trail(connection)
    source = definitions.get(KEY).source  # type: ignore[union-attr]
    assert [(e.action, e.actor, e.scope, e.name) for e in trail] == [
        ("create", f"file:{source}", KEY, "outage")
    ]
    assert not engine.tick(now=end).errors
    truth = running.truth.slo(KEY)
    since = period_start(engine, KEY, end)
    expected = truth_consumed(truth, since, end, excluded=incident)
    assert engine.report(KEY, end).budget.consumed == pytest.approx(expected, rel=1e-9)
    assert excluded_ends(engine, KEY, Window(start, end)) == list(incident)

    # A backfill re-evaluates the range from Prometheus and keeps the marks.
    jobs = backfill.plan(engine, [KEY], start, end)
    assert not backfill.run(engine, jobs).failed
    assert excluded_ends(engine, KEY, Window(start, end)) == list(incident)
    assert engine.report(KEY, end).budget.consumed == pytest.approx(expected, rel=1e-9)

    # Removing the declaration (a reload) deletes it, audited, and gives the budget back.
    result = engine.replace_definitions(shipped())
    assert result.corrections == [f"delete {KEY}/outage"]
    assert excluded_ends(engine, KEY, Window(start, end)) == []
    full = truth_consumed(truth, since, end)
    assert engine.report(KEY, end).budget.consumed == pytest.approx(full, rel=1e-9)
    assert engine.replace_definitions(shipped()).corrections == []  # nothing left to do


def test_a_weekly_maintenance_window_excludes_exactly_its_slices(
    prometheus_over: Callable[[str], RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end  # Monday 2024-03-04, 00:00-06:00Z
    engine = engines(running.url, database_url, start, end)
    assert not engine.tick(now=end).errors
    # Every Monday at 02:10 and 05:10 Berlin time (CET, +1) for 30 minutes, since a week ago;
    # for the whole checkout service.
    weekly = CorrectionSpec(
        name="db-patching",
        category="maintenance",
        note="Primary database patching, Monday mornings",
        rrule="DTSTART;TZID=Europe/Berlin:20240226T021000\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=2,5;BYMINUTE=10",
        duration="30m",
    )
    applied = create_correction(engine, Correction(weekly, "checkout"), "api")
    # 01:10-01:40Z and 04:10-04:40Z: slices ending 01:11 … 01:40 and 04:11 … 04:40.
    expected = [*range(start + 4260, start + 6001, 60), *range(start + 15060, start + 16801, 60)]
    assert len(expected) == 60
    assert applied.remarked == {KEY: 60, LATENCY: 60}
    for key in (KEY, LATENCY):
        assert excluded_ends(engine, key, Window(start, end)) == expected
        since = period_start(engine, key, end)
        truth = running.truth.slo(key)
        corrected = truth_consumed(truth, since, end, excluded=expected)
        assert engine.report(key, end).budget.consumed == pytest.approx(corrected, rel=1e-9)
    assert excluded_ends(engine, "orders/order-status-reads", Window(start, end)) == []
