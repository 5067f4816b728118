"""Reading rollups where it can changes nothing: replay planned from five-minute buckets gives
the same answer as replay over every slice, on ledgers with bursts of every size, gaps without
data, excluded slices, `for` durations and what-ifs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from app.engine import replay_series
from app.engine.replay import run_replay
from app.slo.alert_spec import AlertPolicy, Tier
from app.slo.definitions import DefinitionSet
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus
from app.slo.replay_models import ReplayOut, ReplayRequest
from app.slo.whatif import Change, EditKind, ModeEdit
from app.store import ledger, registry
from app.store.store import Store
from tests.alerting.support import only, shipped
from tests.fixtures.databases import postgres_answers, postgres_schema, schema_url

CHECKOUT = "checkout/checkout-success"
START = 1_709_510_400
DAYS = 5


def _records(seed: int) -> list[SliceRecord]:
    draw = random.Random(seed)
    bursts = [
        (START + draw.randrange(0, DAYS * 86400), draw.choice((5, 20, 60, 300)), draw.random())
        for _ in range(12)
    ]
    gaps = [(START + draw.randrange(0, DAYS * 86400), draw.choice((3, 20))) for _ in range(4)]
    records = []
    for t in range(START + 60, START + DAYS * 86400 + 1, 60):
        if any(at < t <= at + minutes * 60 for at, minutes in gaps):
            records.append(SliceRecord(t=t, status=SliceStatus.NO_DATA))
            continue
        total = float(draw.randint(200, 1200))
        timeout = sum(
            total * 0.06 * strength
            for at, minutes, strength in bursts
            if at < t <= at + minutes * 60
        )
        other = float(draw.random() < 0.3)
        records.append(
            SliceRecord(
                t=t,
                status=SliceStatus.OK,
                total=total,
                bad=timeout + other,
                unattributed=other,
                modes={"payment-timeout": ModeSlice(credited=timeout)},
                excluded=draw.random() < 0.002,
            )
        )
    return records


@pytest.fixture(
    scope="module",
    params=[
        ("sqlite", 1),
        ("sqlite", 2),
        ("sqlite", 3),
        pytest.param(("postgresql", 1), marks=pytest.mark.postgres),
    ],
    ids=["sqlite-1", "sqlite-2", "sqlite-3", "postgresql-1"],
)
def ledger_of(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, DefinitionSet]]:
    backend, seed = request.param
    with ExitStack() as stack:
        if backend == "sqlite":
            path: Path = tmp_path_factory.mktemp("plan") / "ledger.db"
            url = f"sqlite:///{path}"
        else:
            if not postgres_answers():
                pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
            url = schema_url(stack.enter_context(postgres_schema()))
        definitions = only(shipped(), CHECKOUT)
        store = Store(url).open()
        stack.callback(store.close)
        with store.begin() as connection:
            registry.sync_definitions(connection, definitions.slos, START)
            stored = registry.get_slo(connection, CHECKOUT)
            assert stored is not None
            records = _records(seed)
            for chunk in range(0, len(records), 1440):
                ledger.write_slices(connection, stored.id, records[chunk : chunk + 1440])
            registry.advance_checkpoint(connection, stored.id, START + 60, records[-1].t, 60)
        yield store, definitions


def _both(
    store: Store, definitions: DefinitionSet, change: Change, monkeypatch: pytest.MonkeyPatch
) -> tuple[ReplayOut, ReplayOut]:
    request = ReplayRequest(
        start=str(START + 86400 + 17), end=str(START + DAYS * 86400 - 60 * 7), change=change
    )

    def replay() -> ReplayOut:
        return run_replay(store, definitions, request, base_url="http://x", now=START)

    planned = replay()
    with monkeypatch.context() as patch:
        patch.setattr(replay_series, "plannable", lambda *_: False)
        every_slice = replay()
    return planned, every_slice


STRICT = Tier(
    name="strict", severity="page", long_window=3600, short_window=300, budget_fraction=0.004
)
SLOW = Tier.model_validate(
    {"name": "slow", "severity": "ticket", "long_window": "6h", "short_window": "30m",
     "budget_fraction": 0.02, "for": "10m"}
)  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        Change(),
        Change(modes=(ModeEdit(mode="payment-timeout", kind=EditKind.SCALE, value=0.3),)),
        Change(objective=99.5, period="7d"),
        Change(policy=AlertPolicy(tiers=(STRICT, SLOW), min_events=0, no_data_after=600)),
    ],
    ids=["as-is", "scaled", "objective-period", "policy-with-for"],
)
def test_planned_replay_equals_replay_over_every_slice(
    ledger_of: tuple[Store, DefinitionSet], change: Change, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, definitions = ledger_of
    planned, every_slice = _both(store, definitions, change, monkeypatch)
    (slo,) = planned.slos
    assert slo.actual.alerts, "the bursts fire alerts"
    _same(planned, every_slice)


def _same(left: ReplayOut, right: ReplayOut) -> None:
    """Equal, but for incident sums, which may differ in the last bits (buckets are added in
    another order)."""
    a, b = left.slos[0], right.slos[0]
    sides = [(a.actual, b.actual)] + ([(a.changed, b.changed)] if a.changed and b.changed else [])
    for x, y in sides:
        assert x.alerts == y.alerts
        assert x.scores == y.scores
        assert [(i.start_t, i.end_t, i.detected) for i in x.incidents] == [
            (i.start_t, i.end_t, i.detected) for i in y.incidents
        ]
        for i, j in zip(x.incidents, y.incidents, strict=True):
            assert i.consumed == pytest.approx(j.consumed, rel=1e-9)
        assert x.budget == y.budget
    assert a.slices == b.slices
