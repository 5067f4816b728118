"""Summed counts from raw samples give Prometheus' own answers of the counting formula.

One real Prometheus, one TSDB of awkward counters: restarts between slices and inside them (a
young counter climbing back above its old value), scrapes on slice boundaries and off them with
millisecond jitter, scrape gaps of 20 minutes, exactly an hour, just over an hour and two hours,
series that appear and disappear, a NaN sample, and a series without the grouped label. Every
query shape the raw-sample path answers is asked both ways over the same slice ends (the formula
with `sample_counts=False`, as before), and compared slice by slice.
"""

from __future__ import annotations

import math
import subprocess

import pytest

from app.slo.counts import rewrite
from app.sources import sample_reads
from app.sources.errors import QueryError
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.testbed.prometheus import PrometheusServer, find_binary
from tests.conftest import require_prometheus

START = 1_709_510_400
HOURS = 8
SLICE = 60

TEMPLATES = [
    "sum(increase(x_total[{{window}}]))",
    "sum(rate(x_total[{{window}}]))",
    "sum by (code) (increase(x_total[{{window}}]))",
    "sum(rate(x_total[{{window}}])) by (code, pod)",
    'sum(increase(x_total{code="500"}[{{window}}]))',
    'sum(increase(x_total{pod="gone"}[{{window}}]))',
]


def _series() -> dict[str, list[tuple[float, float]]]:
    """labels → (time, value) samples."""
    end = START + HOURS * 3600
    found: dict[str, list[tuple[float, float]]] = {}

    def counter(labels: str, times: list[float], rise: float, restarts: dict[float, float]) -> None:
        value, samples = 0.0, []
        for t in times:
            value = restarts.get(t, value + rise)
            samples.append((t, value))
        found[labels] = samples

    # 15 s scrapes 41 s after the minute; two restarts, one a young counter climbing back.
    times = [float(t) for t in range(START + 41, end, 15)]
    counter('code="200",pod="a"', times, 7, {times[100]: 0.0, times[900]: 3.0})
    # 60 s scrapes exactly on the slice boundaries, a restart; after two gaps, the sample
    # before the first lies exactly on the look-back's closed bound of the slice after it
    # (3,660 s apart), before the second just beyond it (3,720 s).
    times = [float(t) for t in range(START, end, 60) if not 240 < (t - START) // 60 < 301]
    times = [t for t in times if not 360 < (t - START) // 60 < 422]
    counter('code="500",pod="a"', times, 2, {times[200]: 1.0})
    # Millisecond jitter, and gaps of about 20 min, an hour, an hour and a minute, two hours.
    times = [START + 30 + 60 * k + (k * 137 % 1000) / 1000 for k in range(HOURS * 60)]
    gaps = [(60, 80), (140, 199), (260, 321), (380, 500)]  # minutes without samples
    times = [t for t in times if not any(a * 60 <= t - START - 30 < b * 60 for a, b in gaps)]
    counter('code="500",pod="b"', times, 5, {times[50]: 0.0})
    # A series that appears after two hours and is gone after five, with a NaN sample.
    times = [float(t) for t in range(START + 2 * 3600 + 7, START + 5 * 3600, 30)]
    counter('pod="gone"', times, 1, {})
    found['pod="gone"'][40] = (found['pod="gone"'][40][0], math.nan)
    # Resets inside slices: 15 s scrapes dropping every 7th sample.
    times = [float(t) for t in range(START + 3, end, 15)]
    counter('code="200",pod="c"', times, 3, dict.fromkeys(times[::7][1:], 1.0))
    return found


def _openmetrics() -> str:
    lines = ["# TYPE x counter"]
    for labels, samples in _series().items():
        for t, value in samples:
            shown = "NaN" if math.isnan(value) else repr(value)
            lines.append(f"x_total{{{labels}}} {shown} {t:.3f}")
    lines.sort(key=lambda line: float(line.rsplit(" ", 1)[1]) if line[0] != "#" else 0)
    # Another counter with the labels of one of x's series: apart only by its metric name.
    lines.append("# TYPE y counter")
    lines += [f'y_total{{code="200",pod="a"}} {k}.0 {START + 60 * k}' for k in range(300)]
    return "\n".join([*lines, "# EOF"]) + "\n"


@pytest.fixture(autouse=True)
def dense_series_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 15 s series are counted from their samples too (see the density test)."""
    monkeypatch.setattr(sample_reads, "MAX_DENSITY", math.inf)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> PrometheusServer:
    require_prometheus()
    root = tmp_path_factory.mktemp("sample-counts")
    text = root / "x.om"
    text.write_text(_openmetrics())
    promtool = find_binary("promtool")
    command = [promtool, "tsdb", "create-blocks-from", "openmetrics", str(text), str(root / "d")]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    with PrometheusServer(root / "d", work_dir=root / "prometheus") as server:
        yield server


def _answers(
    url: str, query: str, start: int, end: int, samples: bool, expected: int | None = 2
) -> dict:
    asked: list[str] = []
    source = PrometheusSource(
        SourceConfig(url=url, sample_counts=samples),
        observer=lambda seconds, outcome: asked.append(outcome),
    )
    matrix = source.query_matrix(query, start, end, SLICE)
    # Raw samples: their count, then the samples (the path was taken, not fallen back from).
    if expected is not None:
        assert asked == (["ok"] * expected if samples else ["ok"])
    return {
        tuple(sorted(labels.items())): dict(zip(times.tolist(), values.tolist(), strict=True))
        for labels, (times, values) in zip(matrix.labels, matrix.series, strict=True)
    }


def _equal(new: dict, old: dict, exact: bool) -> None:
    assert new.keys() == old.keys()
    for key, series in old.items():
        assert new[key].keys() == series.keys(), key
        for t, value in series.items():
            if math.isnan(value):
                assert math.isnan(new[key][t]), (key, t)
            elif exact:
                assert new[key][t] == value, (key, t)
            else:  # rate(): Prometheus sums the series' quotients in no fixed order
                assert new[key][t] == pytest.approx(value, rel=1e-12), (key, t)


@pytest.mark.prometheus
@pytest.mark.parametrize("template", TEMPLATES)
def test_raw_samples_count_what_the_formula_counts(
    prometheus: PrometheusServer, template: str
) -> None:
    query = rewrite(template, SLICE, closed_ranges=True).query
    start, end = START + SLICE, START + HOURS * 3600 + 600
    old = _answers(prometheus.url, query, start, end, samples=False)
    new = _answers(prometheus.url, query, start, end, samples=True)
    assert sum(len(series) for series in old.values()) > 150  # the formula has answers
    _equal(new, old, exact="increase" in template)


@pytest.mark.prometheus
def test_a_chunk_with_more_samples_than_a_request_holds_is_asked_in_parts(
    prometheus: PrometheusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = rewrite("sum by (pod) (increase(x_total[{{window}}]))", SLICE).query
    start, end = START + SLICE, START + HOURS * 3600
    old = _answers(prometheus.url, query, start, end, samples=False)
    monkeypatch.setattr(sample_reads, "MAX_SAMPLES", 2000)  # ~5,000 samples: three parts
    asked: list[str] = []
    source = PrometheusSource(
        SourceConfig(url=prometheus.url), observer=lambda seconds, outcome: asked.append(outcome)
    )
    matrix = source.query_matrix(query, start, end, SLICE)
    new = {
        tuple(sorted(labels.items())): dict(zip(times.tolist(), values.tolist(), strict=True))
        for labels, (times, values) in zip(matrix.labels, matrix.series, strict=True)
    }
    _equal(new, old, exact=True)
    assert len(asked) > 3  # the count of samples, then the parts


@pytest.mark.prometheus
@pytest.mark.parametrize("samples", [False, True])
def test_series_apart_only_by_their_name_fail_as_the_formula_does(
    prometheus: PrometheusServer, samples: bool
) -> None:
    query = rewrite('sum(increase({__name__=~"x_total|y_total"}[{{window}}]))', SLICE).query
    source = PrometheusSource(SourceConfig(url=prometheus.url, sample_counts=samples))
    with pytest.raises(QueryError, match="same labelset"):
        source.query_matrix(query, START + SLICE, START + 3 * 3600, SLICE)


@pytest.mark.prometheus
@pytest.mark.parametrize(("pod", "from_samples"), [("c", False), ("b", True)])
def test_series_scraped_much_more_often_than_slices_are_asked_as_the_formula(
    prometheus: PrometheusServer, monkeypatch: pytest.MonkeyPatch, pod: str, from_samples: bool
) -> None:
    """15 s scrapes on 60 s slices (pod c, 4 samples a slice): the formula; 60 s (pod b): the
    samples."""
    monkeypatch.setattr(sample_reads, "MAX_DENSITY", 2.5)
    answered: list[bool] = []
    real = sample_reads.from_samples

    def spied(*args: object, **kwargs: object) -> object:
        answer = real(*args, **kwargs)  # type: ignore[arg-type]
        answered.append(answer is not None)
        return answer

    monkeypatch.setattr(sample_reads, "from_samples", spied)
    query = rewrite(f'sum(increase(x_total{{pod="{pod}"}}[{{{{window}}}}]))', SLICE).query
    start, end = START + SLICE, START + HOURS * 3600
    new = _answers(prometheus.url, query, start, end, samples=True, expected=None)
    _equal(new, _answers(prometheus.url, query, start, end, samples=False), exact=True)
    assert answered == [from_samples]


@pytest.mark.prometheus
def test_a_tick_and_other_queries_are_asked_as_the_formula(prometheus: PrometheusServer) -> None:
    asked: list[str] = []
    source = PrometheusSource(
        SourceConfig(url=prometheus.url), observer=lambda seconds, outcome: asked.append(outcome)
    )
    counted = rewrite("sum(increase(x_total[{{window}}]))", SLICE).query
    source.query_matrix(counted, START + 3600, START + 3600 + 58 * SLICE, SLICE)  # 59 slices
    other = rewrite("sum(increase(x_total[{{window}}])) * 2", SLICE).query
    source.query_matrix(other, START + 3600, START + 7200, SLICE)
    assert len(asked) == 2  # one request each: neither was asked for samples
    assert sample_reads.MIN_SLICES == 60


@pytest.mark.prometheus
def test_a_backfill_s_later_chunks_are_planned_from_the_samples_of_the_earlier_ones(
    prometheus: PrometheusServer,
) -> None:
    """One count of the samples per selector, not one per chunk; the counts stay the formula's."""
    query = rewrite("sum by (code) (increase(x_total[{{window}}]))", SLICE).query
    asked: list[str] = []
    source = PrometheusSource(
        SourceConfig(url=prometheus.url), observer=lambda seconds, outcome: asked.append(outcome)
    )
    chunks = [
        (START + SLICE + hour * 7200, START + (hour + 1) * 7200) for hour in range(HOURS // 2)
    ]
    for first, last in chunks:
        matrix = source.query_matrix(query, first, last, SLICE)
        new = {
            tuple(sorted(labels.items())): dict(zip(times.tolist(), values.tolist(), strict=True))
            for labels, (times, values) in zip(matrix.labels, matrix.series, strict=True)
        }
        _equal(new, _answers(prometheus.url, query, first, last, samples=False), exact=True)
    assert len(asked) == 1 + len(chunks)  # the count, then one request of samples per chunk


def test_what_answers_held_is_forgotten_after_a_while_and_beyond_a_bound() -> None:
    now = [0.0]
    densities = sample_reads.Densities(clock=lambda: now[0], most=2)
    densities.put("a", 600, 60_000, 3)
    assert densities.get("a") == (0.01, 3)
    now[0] = sample_reads.KNOWN_FOR + 1
    assert densities.get("a") is None  # a backfill days later asks again
    for selector in ("a", "b", "c"):
        densities.put(selector, 1, 1, 1)
    assert densities.get("a") is None
    assert densities.get("c") == (1.0, 1)
