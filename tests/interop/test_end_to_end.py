"""End to end: a Sloth spec and an OpenSLO document for the checkout API's success SLO, imported
with the CLI and evaluated by the engine on a real Prometheus (the `fast_burn` scenario), spend
exactly the budget of the hand-written `checkout/checkout-success` — which is the ground truth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from app.slo.definitions import DefinitionSet
from tests.conftest import RunningPrometheus
from tests.engine.conftest import make_engine, shipped
from tests.interop.helpers import DOCUMENTS, load_written, run

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

HAND_WRITTEN = "checkout/checkout-success"
IMPORTED = ("checkout-sloth/checkout-success", "checkout-openslo/checkout-success")


def imported_definitions(tmp_path: Path) -> DefinitionSet:
    for kind, document in (
        ("sloth", DOCUMENTS / "sloth" / "checkout-testbed.yml"),
        ("openslo", DOCUMENTS / "openslo" / "checkout-testbed.yaml"),
    ):
        result = run("import", kind, str(document), "--out", str(tmp_path / "imported"))
        assert result.exit_code == 0, result.stderr
    loaded = load_written(tmp_path / "imported")
    assert loaded.ok, loaded.problems
    return loaded.definitions


def test_imported_slos_spend_the_same_budget_as_the_hand_written_one(
    prometheus_over: Callable[[str], RunningPrometheus], tmp_path: Path
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    reference_set = shipped()
    imported = imported_definitions(tmp_path)
    assert sorted(imported.keys()) == sorted(IMPORTED)
    definitions = DefinitionSet(
        slos=(reference_set.get(HAND_WRITTEN), *imported.slos),  # type: ignore[arg-type]
        catalog=reference_set.catalog,
        alerts=reference_set.alerts,
    )
    engine = make_engine(running.url, f"sqlite:///{tmp_path}/ledger.db", start, end, definitions)
    try:
        result = engine.tick(now=end)
        assert not result.errors and result.unavailable is None, result
        reference = engine.report(HAND_WRITTEN, end)
        truth = running.truth.slo(HAND_WRITTEN)
        window_start = int(datetime.fromisoformat(reference.window.start).timestamp())
        assert reference.budget.consumed == pytest.approx(
            truth.window(window_start, end).consumed, rel=1e-6
        )
        # The fast burn overspends the budget, so equal figures below are not 0 == 0.
        assert reference.budget.consumed > 1
        for key in IMPORTED:
            report = engine.report(key, end)
            assert report.status.value == "ok", (key, report.error)
            assert report.events.total == pytest.approx(reference.events.total, rel=1e-9)
            assert report.events.bad == pytest.approx(reference.events.bad, rel=1e-9)
            assert report.budget.consumed == pytest.approx(reference.budget.consumed, rel=1e-9)
            for window, rate in reference.burn_rates.items():
                assert report.burn_rates[window] == pytest.approx(rate, rel=1e-9), (key, window)
    finally:
        engine.store.close()
