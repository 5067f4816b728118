"""Read one HTTP answer of `/api/v1/query_range`: values, or the error it means, from the answer.

The error comes from the answer itself (status code, content type, Prometheus' JSON `errorType`
and `error`), never from a client library's exception text. Anything that is not the shape the
Prometheus API documents is named for what it is:

- not JSON, or JSON without the API's `status` envelope: not the Prometheus API (a wrong URL, a
  login page, a proxy's error page);
- the envelope, but no usable matrix (`data` missing, `result` a string, `values: null`, a value
  that is not a number): a malformed answer.

Each series' samples become arrays as the JSON is read (`_load`), not once the whole answer is
Python objects: a sample as JSON objects takes ~160 bytes (a list, a number, a string), as
arrays 16, and a backfill's raw-sample answer holds 200,000 of them (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from app.slo.sample_sums import RawSeries
from app.sources.signals import Matrix

# Prometheus' error types that blame the query itself; retrying would give the same answer.
QUERY_FAULTS = frozenset({"bad_data", "execution", "not_acceptable"})
# Statuses worth asking again after a pause: overload, rate limits, gateways, server timeouts.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403, 407})


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Verdict:
    """What an answer means when it carries no values: which error, and its message."""

    kind: str  # query_error | malformed | not_prometheus | auth | credentials | transient | timeout
    message: str
    error_type: str | None = None


class Unusable(Exception):  # noqa: N818 - carries a Verdict, translated by the adapter
    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


# One answer decoded at a time in this process: decoding holds the interpreter lock throughout
# (JSON to arrays), so threads gain nothing by decoding side by side, while each decoding holds
# its answer as text and a series as Python objects besides the body.
_DECODING = threading.Lock()
Read = TypeVar("Read")


def decoded(read: Callable[[Answer], Read], answer: Answer) -> Read:
    """`read(answer)`, one answer at a time (see `_DECODING`)."""
    with _DECODING:
        return read(answer)


def read_answer(answer: Answer) -> Matrix:
    """The series of a successful answer; raises Unusable with what any other answer means."""
    return parse_matrix(_data(answer))


def read_tagged_answer(answer: Answer, tag: str, count: int) -> list[Matrix]:
    """The answers of `count` queries asked in one, each series tagged with its query's index
    in label `tag` (see `app.sources.batching`); raises Unusable as `read_answer` does."""
    return parse_tagged(_data(answer), tag, count)


def _data(answer: Answer, scale: int = 1) -> Any:
    """The `data` of a successful answer, each series' samples as arrays (times × `scale`) where
    they are in shape; raises Unusable with what any other answer means."""
    envelope = _envelope(answer, scale)
    if envelope is None:
        if answer.status in AUTH_STATUSES:
            raise Unusable(Verdict("auth", f"HTTP {answer.status} {answer.reason}".strip()))
        if answer.status in TRANSIENT_STATUSES:
            raise Unusable(Verdict("transient", f"HTTP {answer.status}: {_excerpt(answer.body)}"))
        media = answer.content_type.split(";")[0].strip() or "no content type"
        raise Unusable(Verdict("not_prometheus", f"HTTP {answer.status}, {media}"))
    if envelope.get("status") != "success" or answer.status >= 300:
        raise Unusable(_api_error(answer.status, envelope))
    return envelope.get("data")


@dataclass(frozen=True)
class _Samples:
    """A series' `values`, converted to arrays while the JSON was read (see `_load`)."""

    times: NDArray[np.int64]
    values: NDArray[np.float64]


def _load(body: bytes, scale: int) -> Any:
    """`json.loads(body)`, each JSON object with a `values` list of samples in shape (a
    series of a matrix) given `_Samples` in its place as soon as the object is read: one
    series' samples are Python objects at a time, never the whole answer's. Samples out of
    shape stay as they came, for `_columns` to name."""

    def series_read(found: dict[str, Any]) -> dict[str, Any]:
        samples = found.get("values")
        if isinstance(samples, list):
            columns = _fast_columns(samples, scale)
            if columns is not None:
                found["values"] = _Samples(*columns)
        return found

    return json.loads(body, object_hook=series_read)


def _envelope(answer: Answer, scale: int) -> dict[str, Any] | None:
    """The API's JSON object, or None when the answer is not the Prometheus API at all."""
    try:
        payload = _load(answer.body, scale)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or payload.get("status") not in ("success", "error"):
        return None
    return payload


def _api_error(status: int, envelope: dict[str, Any]) -> Verdict:
    error_type = _text(envelope.get("errorType")) or None
    message = _text(envelope.get("error")) or f"HTTP {status} without an error message"
    if status in AUTH_STATUSES:
        return Verdict("auth", f"HTTP {status}: {message}", error_type)
    if error_type == "timeout" or status in (408, 504):
        return Verdict("timeout", message, error_type)
    if error_type in QUERY_FAULTS or (400 <= status < 500 and status not in TRANSIENT_STATUSES):
        return Verdict("query_error", message, error_type)
    if status == 200:  # "status": "error" with a 200: the envelope is wrong, not the server
        return Verdict("malformed", f"status {envelope.get('status')!r} with HTTP 200")
    return Verdict("transient", f"HTTP {status}: {message}", error_type)


def parse_matrix(data: Any) -> Matrix:
    """Each series' sample times and values as arrays, from a range query's `data`; raises
    Unusable(malformed) on any deviation.

    NaN and ±Inf are valid sample values and are handed on: the pure core decides what they mean.
    """
    series = _series(data)
    return Matrix(
        tuple(_columns(samples) for _, samples in series), tuple(labels for labels, _ in series)
    )


def parse_tagged(data: Any, tag: str, count: int) -> list[Matrix]:
    """`parse_matrix` for an answer of `count` queries, each series tagged with its query's
    index in label `tag`: each query's series without the tag, in the order Prometheus gives
    one query's series (by their label sets), so each answer is the one asked alone."""
    tagged: list[list[tuple[list[tuple[str, str]], list[Any] | _Samples]]] = [
        [] for _ in range(count)
    ]
    for labels, samples in _series(data):
        index = labels.pop(tag, None)
        if index is None or not index.isdigit() or int(index) >= count:
            raise _malformed(f"a series without a known {tag!r} label: {_excerpt(repr(labels))}")
        tagged[int(index)].append((sorted(labels.items()), samples))
    answers = []
    for found in tagged:
        ordered = sorted(found, key=lambda s: s[0])
        answers.append(
            Matrix(
                tuple(_columns(samples) for _, samples in ordered),
                tuple(dict(labels) for labels, _ in ordered),
            )
        )
    return answers


def read_samples(answer: Answer) -> list[RawSeries]:
    """The raw samples of an instant query of a range selector (`S[span]`): each series'
    labels, sample times in milliseconds and values; raises Unusable as `read_answer` does
    (a series of native histograms, without `values`, is malformed here)."""
    return [
        RawSeries(labels, *_columns(samples, scale=1000))
        for labels, samples in _series(_data(answer, scale=1000))
    ]


def read_values(answer: Answer) -> list[float]:
    """The values of an instant query's vector answer, one per series (none for no series)."""
    data = _data(answer)
    result = data.get("result") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("resultType") != "vector"
        or not isinstance(result, list)
    ):
        raise _malformed(f"expected a vector result, got {_excerpt(_json(data))}")
    return [_sample(item.get("value") if isinstance(item, dict) else None)[1] for item in result]


def _series(data: Any) -> list[tuple[dict[str, str], list[Any] | _Samples]]:
    """(labels, samples) of each series of a range query's `data`; raises Unusable(malformed)
    when it is not a matrix."""
    if not isinstance(data, dict):
        raise _malformed("`data` is missing")
    result = data.get("result")
    if data.get("resultType") != "matrix" or not isinstance(result, list):
        raise _malformed(f"expected a matrix result, got {_excerpt(_json(data))}")
    found = []
    for series in result:
        samples = series.get("values") if isinstance(series, dict) else None
        if not isinstance(samples, list | _Samples):
            raise _malformed(f"a series without a list of values: {_excerpt(_json(series))}")
        metric = series.get("metric")
        labels = {str(k): str(v) for k, v in metric.items()} if isinstance(metric, dict) else {}
        found.append((labels, samples))
    return found


def _columns(
    samples: list[Any] | _Samples, scale: int = 1
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """(times × `scale`, values) of one series' `[[time, "value"], …]` (arrays already when
    `_load` converted them, with the same `scale`); any sample out of shape is found and named
    by the slow path."""
    if isinstance(samples, _Samples):
        return samples.times, samples.values
    fast = _fast_columns(samples, scale)
    if fast is not None:
        return fast
    checked = [
        _sample(sample, scale) for sample in samples
    ]  # raises on the first sample out of shape
    return (
        np.array([t for t, _ in checked], dtype=np.int64),
        np.array([value for _, value in checked], dtype=np.float64),
    )


def _fast_columns(
    samples: list[Any], scale: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]] | None:
    """`_columns` converted by numpy in one go; None for no samples or any out of shape."""
    if samples and set(map(type, samples)) == {list} and set(map(len, samples)) == {2}:
        values = [sample[1] for sample in samples]
        if set(map(type, values)) == {str}:
            try:
                times = np.array([sample[0] for sample in samples], dtype=np.float64)
                numbers = np.array(values, dtype=np.float64)
            except (TypeError, ValueError):
                return None
            if np.isfinite(times).all():
                return np.rint(times * scale).astype(np.int64), numbers
    return None


def _sample(sample: Any, scale: int = 1) -> tuple[int, float]:
    if not isinstance(sample, list) or len(sample) != 2 or not isinstance(sample[1], str):
        raise _malformed(f'a sample that is not [time, "value"]: {_excerpt(json.dumps(sample))}')
    try:
        t, value = float(sample[0]), float(sample[1])
    except (TypeError, ValueError):
        raise _malformed(f"a sample that is not a number: {_excerpt(json.dumps(sample))}") from None
    if not math.isfinite(t):
        raise _malformed(f"a sample time that is not finite: {sample[0]!r}")
    return round(t * scale), value


def _malformed(message: str) -> Unusable:
    return Unusable(Verdict("malformed", message))


def _json(value: Any) -> str:
    """`value` as JSON for a message (samples already converted shown as their count)."""
    return json.dumps(value, default=lambda s: f"<{len(s.times)} samples>")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _excerpt(body: bytes | str, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
