"""A grouped SLO's groups in the alert evaluation (SQLite, PostgreSQL): a burning group pages
with its labels; once aged out, what it fired resolves; and thousands of aged-out groups cost
the evaluation a read per batch, not a read per group."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import event

from app.alerting.evaluator import AlertEvaluator
from app.slo.definitions import DefinitionSet
from app.slo.groups import group_slo_key
from app.store import groups, registry
from tests.alerting.conftest import SyntheticLedger
from tests.alerting.support import NOON, only, shipped

KEY = "checkout/checkout-success"
MakeLedger = Callable[[DefinitionSet | None], SyntheticLedger]
GROUPS = 600


def grouped() -> DefinitionSet:
    """checkout-success grouped by route (the alert evaluation reads ledgers, not queries)."""
    definitions = only(shipped(), KEY)
    [definition] = definitions.slos
    spec = definition.spec.model_copy(update={"group_by": ("route",)})
    return replace(definitions, slos=(replace(definition, spec=spec),))


@contextmanager
def statements(ledger: SyntheticLedger) -> Iterator[list[str]]:
    """The SQL statements run meanwhile on the ledger's store."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(ledger.store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(ledger.store.engine, "before_cursor_execute", note)


def test_aged_out_groups_resolve_what_they_fired_and_are_read_a_batch_at_a_time(
    synthetic: MakeLedger,
) -> None:
    ledger = synthetic(grouped())
    parent = ledger.slo_id(KEY)
    routes = [f"r{n:03d}" for n in range(GROUPS)]
    with ledger.store.begin() as connection:
        keys = [group_slo_key("checkout", "checkout-success", {"route": r}) for r in routes]
        added = [(key, {"route": route}) for key, route in zip(keys, routes, strict=True)]
        groups.add_groups(connection, parent, added)
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON + 600, bad=10.0)
    ledger.fill(keys[0], NOON - 3 * 3600 + 60, NOON)  # three clean hours, then a burn
    ledger.fill(keys[0], NOON + 60, NOON + 600, bad=100.0)
    judge = AlertEvaluator(ledger.store, lambda: ledger.definitions, base_url="http://f")
    fired = judge.evaluate().transitions
    pages = {(t.document["labels"].get("route"), t.tier, t.state.value) for t in fired}
    assert ("r000", "page-fast", "firing") in pages
    # Every group ages out (no data since the start of the period); 599 never fired anything.
    with ledger.store.begin() as connection:
        assert groups.retire_vanished(connection, parent, NOON + 3600) == GROUPS
    ledger.fill(KEY, NOON + 660, NOON + 660)
    with statements(ledger) as seen:
        result = judge.evaluate()
    assert not result.errors, result.errors
    resolved = {
        (t.document["labels"].get("route"), t.tier, t.state.value) for t in result.transitions
    }
    assert ("r000", "page-fast", "resolved") in resolved
    assert {route for route, _, _ in resolved} == {"r000"}
    # The states of the 600 aged-out groups are read in two batched reads (500 a batch), and
    # the one that fires is written: not 600 reads.
    reads = [s for s in seen if "FROM alert_states" in s and "FOR UPDATE" not in s]
    assert len(reads) <= 6, len(reads)
    with ledger.store.read() as connection:
        assert all(not g.active for g in groups.groups_of(connection, parent))
        assert registry.get_slo(connection, keys[0]) is not None
