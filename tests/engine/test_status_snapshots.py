"""Status snapshots with kept whole-hour sums equal a full recomputation, bit for bit: after
ticks, across an hour boundary and a calendar period's rollover, after a backfill of older
slices, a correction, and a re-evaluation of slices already summed. Real Prometheus, SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from app.engine.corrections import create_correction
from app.engine.evaluate import evaluate_range
from app.engine.service import Engine
from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction
from app.slo.definitions import DefinitionSet
from app.slo.spec import CalendarPeriod
from app.slo.windows import Window
from app.store import ledger, registry, status
from tests.conftest import RunningPrometheus
from tests.engine.conftest import shipped

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

KEY = "checkout/checkout-success"
WEEKLY = "checkout/checkout-success-weekly"
HOUR = 3600


def definitions_with_a_weekly_copy() -> DefinitionSet:
    """The shipped SLOs and a copy of checkout-success budgeted per calendar week in UTC−4:
    its week starts at 04:00 UTC on Mondays, four hours into the scenario (a Monday)."""
    definitions = shipped()
    original = definitions.get(KEY)
    assert original is not None
    period = CalendarPeriod.model_validate({"calendar": "week", "timezone": "Etc/GMT+4"})
    spec = original.spec.model_copy(update={"name": "checkout-success-weekly", "period": period})
    return replace(definitions, slos=(*definitions.slos, replace(original, spec=spec)))


def snapshots_equal_recomputed(engine: Engine, moment: int) -> None:
    """Every stored snapshot is the report a full read of the ledger gives at `moment`."""
    keys = [definition.key for definition in engine.definitions.slos]
    with engine.store.read() as connection:
        stored = status.reports(connection, keys)
    assert sorted(stored) == sorted(keys)
    for key in keys:
        recomputed = engine.report(key, moment, incidents=False).model_dump_json()
        assert stored[key] == recomputed, key


def tick(engine: Engine, now: int) -> None:
    result = engine.tick(now=now)
    assert not result.errors and result.unavailable is None, result
    snapshots_equal_recomputed(engine, now)


def test_kept_hour_sums_give_the_reports_of_a_full_read(
    prometheus_over: Callable[[str], RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
) -> None:
    running = prometheus_over("fast_burn")
    start = running.scenario.start
    assert start % (7 * 86400) == 4 * 86400  # a Monday, 00:00 UTC
    first = start + 4 * HOUR - 5 * 60
    # History from two hours in; ticks then cross 04:00 (an hour and the weekly period).
    engine = engines(
        running.url, database_url, start + 2 * HOUR, first, definitions_with_a_weekly_copy()
    )
    hours = engine.statuses.hours
    tick(engine, first)
    for minute in range(1, 9):
        tick(engine, first + 60 * minute)
    assert hours.hits > 0  # the kept sums were used, not only read again
    now = first + 8 * 60
    slo_ids = {slo.key: slo.id for slo in engine.stored_slos().values()}

    # A backfill of older slices (before the history's start, inside every period).
    definition = engine.definitions.get(KEY)
    assert definition is not None
    before = engine.stored_slos()[KEY].history_rewrites
    evaluate_range(
        engine.store, engine.source, definition, slo_ids[KEY], start + 60, start + 2 * HOUR
    )
    assert engine.stored_slos()[KEY].history_rewrites == before + 1
    misses = hours.misses
    tick(engine, now + 60)
    assert hours.misses > misses

    # A correction over an hour already summed.
    spec = CorrectionSpec(
        name="deploy", category="deployment", note="bad deploy", start=start + 2 * HOUR,
        end=start + 3 * HOUR,
    )  # fmt: skip
    create_correction(
        engine, Correction(spec=spec, service="checkout", slo="checkout-success"), actor="test"
    )
    tick(engine, now + 120)

    # Slices already summed evaluated again with other values (a replay of a chunk).
    with engine.store.begin() as connection:
        old = ledger.read_slices(
            connection, slo_ids[KEY], Window(start + 150 * 60, start + 160 * 60)
        )
        again = [
            replace(record, bad=record.bad + 5.0, unattributed=record.unattributed + 5.0)
            for record in old
        ]
        ledger.write_slices(connection, slo_ids[KEY], again)
    tick(engine, now + 180)
    with engine.store.read() as connection:
        stored = registry.get_slo(connection, KEY)
    assert stored is not None and stored.history_rewrites >= before + 3


def test_a_tick_rewrites_only_the_snapshots_that_changed(
    prometheus_over: Callable[[str], RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
) -> None:
    """A tick writes the snapshots of the SLOs it evaluated, failed ones too; of the others
    (nothing due, not reached, left at its deadline) only those with none or turned stale since
    theirs: a tick cut at its deadline rewrote every one left, and with 3,000 SLOs ran 167 s."""
    running = prometheus_over("fast_burn")
    first = running.scenario.start + 3 * HOUR
    engine = engines(running.url, database_url, first - HOUR, first)
    keys = {slo.id: slo.key for slo in engine.stored_slos().values()}

    def computed() -> dict[str, int]:
        with engine.store.read() as connection:
            return {keys[slo_id]: at for slo_id, at in status.computed_at(connection).items()}

    tick(engine, first)
    assert set(computed().values()) == {first}
    result = engine.tick(now=first + 30)  # nothing due (one-minute slices)
    assert not result.evaluated and set(computed().values()) == {first}

    running.server.stop()  # the short catch-ups reached fail; the others are not reached
    try:
        result = engine.tick(now=first + 60)
    finally:
        running.server.start()
    assert result.unavailable is not None and result.unwritten and not result.succeeded
    after = computed()
    assert {key for key, at in after.items() if at == first + 60} == result.unwritten
    assert {at for key, at in after.items() if key not in result.unwritten} == {first}
    with engine.store.read() as connection:
        shown = status.reports(connection, sorted(result.unwritten))
    for key in result.unwritten:  # with the error recorded
        assert shown[key] == engine.report(key, first + 60, incidents=False).model_dump_json()

    # Cut at once: every SLO is left, stale now and not at its snapshot, then stale at both.
    result = engine.tick(now=first + 400, deadline=0)
    assert not result.evaluated and len(result.deferred) == len(keys)
    snapshots_equal_recomputed(engine, first + 400)
    engine.tick(now=first + 460, deadline=0)
    assert set(computed().values()) == {first + 400}
