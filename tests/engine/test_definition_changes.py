"""A changed query recomputes that SLO's history; other edits keep it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from app.engine.service import Engine
from app.slo.definitions import DefinitionSet
from tests.conftest import RunningPrometheus
from tests.engine.conftest import shipped
from tests.engine.test_faults import ledger_rows

pytestmark = [pytest.mark.prometheus]
KEY = "checkout/checkout-success"


def edited(definitions: DefinitionSet, **changes: object) -> DefinitionSet:
    slos = tuple(
        replace(d, spec=d.spec.model_copy(update=changes)) if d.key == KEY else d
        for d in definitions.slos
    )
    return replace(definitions, slos=slos)


def test_a_changed_query_recomputes_only_that_slo(
    prometheus_over: Callable[[str], RunningPrometheus],
    database_url: str,
    engines: Callable[..., Engine],
    tmp_path: object,
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    engine = engines(running.url, database_url, start, end)
    engine.tick(now=end)
    before = ledger_rows(engine)

    # An edit that does not change the ledger (the objective) keeps the history.
    kept = engine.replace_definitions(edited(engine.definitions, objective=99.5))
    assert kept.updated == [KEY] and kept.history_reset == []
    assert ledger_rows(engine) == before
    assert engine.report(KEY, end).objective == 99.5

    # A different bad query throws the SLO's ledger away; the next tick recomputes it.
    original = shipped().get(KEY)
    assert original is not None and original.spec.sli is not None and original.spec.sli.events
    only_timeouts = original.spec.sli.events.model_copy(
        update={"bad": 'sum(rate(http_requests_total{service="checkout", code="504"}[{{window}}]))'}
    )
    changed = edited(
        engine.definitions, sli=original.spec.sli.model_copy(update={"events": only_timeouts})
    )
    reset = engine.replace_definitions(changed)
    assert reset.history_reset == [KEY]
    assert ledger_rows(engine)[KEY] == []
    assert {k: v for k, v in ledger_rows(engine).items() if k != KEY} == {
        k: v for k, v in before.items() if k != KEY
    }
    engine.tick(now=end)

    fresh = engines(running.url, f"sqlite:///{tmp_path}/fresh.db", start, end, definitions=changed)
    fresh.tick(now=end)
    assert ledger_rows(engine)[KEY] == ledger_rows(fresh)[KEY]
    assert len(ledger_rows(engine)[KEY]) == (end - start) // 60
