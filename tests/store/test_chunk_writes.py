"""Writing a chunk from its columns leaves the ledger that writing its records one by one leaves:
the same slice rows (the `modes` text included), the same rollups, and idempotent rewrites."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from sqlalchemy import select

from app.slo.chunk import ChunkEvaluator
from app.slo.chunk_outcome import ChunkOutcome
from app.slo.grid import GridAnswer
from app.slo.spec import SLOSpec
from app.store import ledger
from app.store.chunk_writes import write_chunk
from app.store.invariants import rollup_disagreements
from app.store.rollups import LEVELS
from app.store.slice_rows import mode_texts
from app.store.store import Store
from app.store.tables import slices, slos

SPEC = SLOSpec.model_validate(
    {
        "name": "chunk",
        "objective": 99.0,
        "sli": {
            "events": {
                "total": "sum(rate(req_total[{{window}}]))",
                "bad": 'sum(rate(req_total{c="5"}[{{window}}]))',
            }
        },
        "failure_modes": [
            {"name": "timeout", "design_choice": "queue", "bad": "sum(rate(t_total[{{window}}]))"},
            {"name": "backlog", "design_choice": "queue", "when": "max(age) > 300"},
            {
                "name": "both",
                "design_choice": "queue",
                "bad": "sum(rate(b_total[{{window}}]))",
                "when": "max(x) > 1",
            },
        ],
    }
)


def outcome(first: int, size: int, seed: int) -> ChunkOutcome:
    rng = random.Random(seed)

    def column(busy: float, missing: float = 0.02) -> list[list[float]]:
        return [
            []
            if rng.random() < missing
            else [float(rng.randint(0, 20)) if rng.random() < busy else 0.0]
            for _ in range(size)
        ]

    answers = {
        "total": GridAnswer.of_readings(
            [[] if rng.random() < 0.03 else [float(rng.randint(50, 500))] for _ in range(size)]
        ),
        "bad": GridAnswer.of_readings(column(0.3)),
        "mode:timeout:bad": GridAnswer.of_readings(column(0.2)),
        "mode:backlog:when": GridAnswer.of_readings(column(1.0, missing=0.9)),
        "mode:both:bad": GridAnswer.of_readings(column(0.1)),
        "mode:both:when": GridAnswer.of_readings(column(1.0, missing=0.95)),
    }
    excluded = np.array([rng.random() < 0.02 for _ in range(size)])
    return ChunkEvaluator(SPEC).evaluate(first, size, answers, excluded)


def new_slo(store: Store, name: str) -> int:
    with store.begin() as connection:
        result = connection.execute(
            slos.insert().values(
                key=f"s/{name}", service="s", name=name, active=True, definition="{}",
                content_hash="c", history_hash="h", slice_seconds=60, updated_at=0,
            )
        )  # fmt: skip
        return int(result.inserted_primary_key[0])


def rows(store: Store, slo_id: int) -> dict[str, list[tuple[object, ...]]]:
    found: dict[str, list[tuple[object, ...]]] = {}
    with store.read() as connection:
        found["slices"] = [
            tuple(row)[1:]
            for row in connection.execute(
                select(slices).where(slices.c.slo_id == slo_id).order_by(slices.c.t)
            )
        ]
        for level in LEVELS:
            for table in (level.sums, level.modes):
                found[table.name] = sorted(
                    tuple(row)[1:]
                    for row in connection.execute(select(table).where(table.c.slo_id == slo_id))
                )
    return found


def same(left: tuple[object, ...], right: tuple[object, ...]) -> bool:
    return all(
        math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        if isinstance(a, float) and isinstance(b, float)
        else a == b
        for a, b in zip(left, right, strict=True)
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_columns_and_records_write_the_same_ledger(database_url: str, seed: int) -> None:
    store = Store(database_url).open()
    try:
        by_columns, by_records = new_slo(store, "columns"), new_slo(store, "records")
        first = 1_800_000_000 - 1_800_000_000 % 3600 + 17 * 60  # not on an hour, on purpose
        parts = [(first, 1000), (first + 1000 * 60, 1000), (first + 2000 * 60, 877)]
        rewrite = (first + 500 * 60, 1100)  # re-evaluated across a chunk edge, values changed
        for index, (start, size) in enumerate([*parts, rewrite, (first + 2877 * 60, 1)]):
            chunk = outcome(start, size, seed * 100 + index)
            with store.begin() as connection:
                write_chunk(connection, by_columns, chunk)
                ledger.write_slices(connection, by_records, chunk.records(), 60)
        got, expected = rows(store, by_columns), rows(store, by_records)
        assert got["slices"] == expected["slices"]  # identical rows, `modes` text included
        for name, wanted in expected.items():
            assert len(got[name]) == len(wanted), name
            assert all(same(a, b) for a, b in zip(got[name], wanted, strict=True)), name
        with store.read() as connection:
            assert rollup_disagreements(connection, by_columns) == []
    finally:
        store.close()


def test_mode_texts_are_what_the_record_encoder_writes() -> None:
    chunk = outcome(1_800_000_060, 3000, 5)
    texts = mode_texts(chunk)
    for record, text in zip(chunk.records(), texts, strict=True):
        assert text == ledger._encode_modes(record.modes)
