"""The column-wise chunk evaluator gives the per-slice reference's records, on random chunks.

Awkward cases are drawn on purpose: signals without any series, slices without series, NaN and
±Inf, counts too large to add, negative values (what a counter reset or `good > total` can give),
overlapping causes (direct credits above the bad total), a mode with both `bad` and `when`,
excluded slices, timeslice budgeting and threshold SLIs (with their freshness check).

Values are integers or quarters, so sums are exact in any order and a time slice's verdict never
hangs on rounding; amounts that go through division (scaled credits) are compared within 1e-9.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.slo.chunk import ChunkEvaluator
from app.slo.evaluation import SliceEvaluator
from app.slo.grid import GridAnswer
from app.slo.ledger import SliceRecord
from app.slo.spec import SLOSpec

STEP = 60
FIRST = 1_800_000_060

whole = st.integers(0, 10**6).map(float)
quarters = st.integers(-4000, 4000).map(lambda n: n / 4)
awkward = st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1e299, 1e301])
counts = st.one_of(whole, quarters, whole, quarters, whole, awkward)


@st.composite
def failure_modes(draw: st.DrawFn) -> list[dict[str, Any]]:
    modes = []
    for index in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["bad", "when", "both"]))
        mode: dict[str, Any] = {"name": f"mode-{index}", "design_choice": "queue"}
        if kind in ("bad", "both"):
            mode["bad"] = draw(
                st.sampled_from(
                    [f"sum(rate(m{index}_total[{{{{window}}}}]))", f"sum(m{index}_per_s)"]
                )
            )
        if kind in ("when", "both"):
            mode["when"] = f"max(age{index}) > 300"
        modes.append(mode)
    return modes


@st.composite
def specs(draw: st.DrawFn) -> SLOSpec:
    kind = draw(st.sampled_from(["bad", "good", "modes", "threshold"]))
    modes = draw(failure_modes())
    document: dict[str, Any] = {"name": "chunk", "objective": 99.0, "failure_modes": modes}
    if kind == "threshold":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        query = draw(st.sampled_from(["max(queue_age_seconds)", "vector(1)"]))
        document["sli"] = {"threshold": {"query": query, "op": op, "value": 2.0}}
    else:
        if kind == "modes" and not any("bad" in mode for mode in modes):
            modes.append({"name": "only", "design_choice": "queue", "bad": "sum(o_per_s)"})
        unit = draw(st.sampled_from(["auto", "rate", "count"]))
        events: dict[str, Any] = {"total": "sum(rate(req_total[{{window}}]))", "unit": unit}
        if kind == "bad":
            events["bad"] = draw(
                st.sampled_from(['sum(rate(req_total{c="5"}[{{window}}]))', "sum(errors_per_s)"])
            )
        if kind == "good":
            events["good"] = 'sum(rate(req_total{c="2"}[{{window}}]))'
        document["sli"] = {"events": events}
        if draw(st.booleans()):
            document["budgeting"] = "timeslices"
            document["slice_target"] = draw(st.sampled_from([50.0, 90.0, 100.0]))
    return SLOSpec.model_validate(document)


@st.composite
def chunks(draw: st.DrawFn) -> tuple[SLOSpec, dict[str, list[list[float]]], list[bool]]:
    spec = draw(specs())
    size = draw(st.integers(1, 24))
    answers: dict[str, list[list[float]]] = {}
    for key in SliceEvaluator(spec).signals:
        if draw(st.integers(0, 9)) == 0:
            continue  # the query returned no series at all
        series = draw(st.integers(1, 3))
        answers[key] = [
            draw(st.lists(counts, max_size=series)) if draw(st.integers(0, 5)) else []
            for _ in range(size)
        ]
    excluded = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    return spec, answers, excluded


def reference(
    spec: SLOSpec, answers: dict[str, list[list[float]]], excluded: list[bool], size: int
) -> list[SliceRecord]:
    evaluator = SliceEvaluator(spec)
    records = []
    for index in range(size):
        readings = {key: columns[index] for key, columns in answers.items()}
        record = evaluator.evaluate(FIRST + index * STEP, readings)
        records.append(replace(record, excluded=excluded[index]))
    return records


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_same(expected: SliceRecord, got: SliceRecord) -> None:
    context = f"{expected} != {got}"
    assert (got.t, got.status, got.excluded, got.no_data) == (
        expected.t, expected.status, expected.excluded, expected.no_data,
    ), context  # fmt: skip
    for name in ("total", "bad", "unattributed", "events_total", "events_bad", "value"):
        assert close(getattr(expected, name), getattr(got, name)), f"{name}: {context}"
    assert list(got.modes) == list(expected.modes), context
    for mode, outcome in expected.modes.items():
        other = got.modes[mode]
        assert other.held == outcome.held, context
        assert close(other.raw_bad, outcome.raw_bad), context
        assert close(other.credited, outcome.credited), context
    assert got.unattributed >= 0 and all(m.credited >= 0 for m in got.modes.values()), context
    parts = got.unattributed + sum(m.credited for m in got.modes.values())
    assert math.isclose(parts, got.bad, rel_tol=1e-9, abs_tol=1e-9), context


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks())
def test_column_wise_records_equal_the_per_slice_reference(
    chunk: tuple[SLOSpec, dict[str, list[list[float]]], list[bool]],
) -> None:
    spec, answers, excluded = chunk
    size = len(excluded)
    grid = {key: GridAnswer.of_readings(columns) for key, columns in answers.items()}
    outcome = ChunkEvaluator(spec).evaluate(FIRST, size, grid, np.array(excluded, dtype=bool))
    got = outcome.records()
    expected = reference(spec, answers, excluded, size)
    assert len(got) == size
    for want, have in zip(expected, got, strict=True):
        assert_same(want, have)
    no_data = {}
    for record in expected:
        if record.no_data is not None:
            no_data[record.no_data.reason.value] = no_data.get(record.no_data.reason.value, 0) + 1
    assert dict(outcome.no_data_counts()) == no_data
