"""Answers decoded series by series (`answers._load`): the same arrays as the whole answer
decoded first, and messages about answers out of shape still show them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.sources.answers import Answer, Unusable, parse_matrix, read_answer, read_samples

SERIES = [
    {"metric": {"route": "a", "values": "a label named values"}, "values": [[1700000000, "1.5"]]},
    {
        "metric": {"route": "b"},
        "values": [[1700000000.25, "NaN"], [1700000060, "+Inf"], [1700000120, "-3e-05"]],
    },
    {"metric": {"route": "c"}, "values": []},
]


def answer(data: object) -> Answer:
    body = json.dumps({"status": "success", "data": data}).encode()
    return Answer(200, "OK", "application/json", body)


def test_series_decoded_as_read_equal_the_whole_answer_decoded_first() -> None:
    data = {"resultType": "matrix", "result": SERIES}
    got, expected = read_answer(answer(data)), parse_matrix(json.loads(json.dumps(data)))
    assert got.labels == expected.labels
    for (times, values), (want_times, want_values) in zip(got.series, expected.series, strict=True):
        assert times.dtype == np.int64 and values.dtype == np.float64
        np.testing.assert_array_equal(times, want_times)
        np.testing.assert_array_equal(values, want_values)  # NaN where NaN
    raw = read_samples(answer(data))
    assert raw[1].times.tolist() == [1700000000250, 1700000060000, 1700000120000]


def test_a_result_out_of_shape_is_named_with_its_samples_counted() -> None:
    data = {"resultType": "vector", "result": SERIES[:1]}
    with pytest.raises(Unusable) as raised:
        read_answer(answer(data))
    assert "expected a matrix result" in str(raised.value)
    assert "<1 samples>" in str(raised.value)
