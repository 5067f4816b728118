"""OpenMetrics for promtool and the text format for the live exporter."""

from __future__ import annotations

import io

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from app.testbed.dataset import generate
from app.testbed.exposition import format_value, render_text, write_openmetrics
from app.testbed.scenario import Scenario, ScrapeGap
from tests.conftest import TEST_START

HISTOGRAM = "http_request_duration_seconds"


def _openmetrics(
    scenario: Scenario, start: int | None = None, end: int | None = None
) -> tuple[str, int]:
    out = io.StringIO()
    written = write_openmetrics(generate(scenario), out, start, end)
    return out.getvalue(), written


def test_openmetrics_names_counter_families_without_total_and_ends_with_eof() -> None:
    text, written = _openmetrics(Scenario("om", TEST_START, 3))
    lines = text.splitlines()
    assert lines[-1] == "# EOF" and text.endswith("\n")
    assert "# TYPE http_requests counter" in lines
    assert "# TYPE payment_client_requests counter" in lines
    assert "# TYPE up gauge" in lines
    assert f"# TYPE {HISTOGRAM} histogram" in lines
    samples = [line for line in lines if not line.startswith("#")]
    assert len(samples) == written == 45 * 4
    assert all(line.rsplit(" ", 1)[1].isdigit() for line in samples), "timestamps in seconds"
    assert (
        'http_requests_total{code="504",instance="checkout:8080",job="checkout",service="checkout"}'
        in text
    )
    types = [line for line in lines if line.startswith("# TYPE")]
    assert len(types) == len(set(types)), "each family once, all its samples together"


def test_openmetrics_without_histograms_passes_the_strict_parser() -> None:
    # prometheus_client's parser rejects timestamped histogram points it should accept, so the
    # histogram family (checked by promtool in the acceptance tests) is left out here.
    text, _ = _openmetrics(Scenario("om", TEST_START, 5, interval=15))
    kept = [line for line in text.splitlines() if HISTOGRAM not in line]
    parsed = parse_openmetrics("\n".join(kept) + "\n")  # type: ignore[no-untyped-call]
    families = {family.name: family for family in parsed}
    assert families["http_requests"].type == "counter"
    assert families["aws_sqs_approximate_age_of_oldest_message_maximum"].type == "gauge"
    assert len(families["probe_success"].samples) == 2 * 21


def test_openmetrics_skips_gaps_and_respects_the_time_window() -> None:
    gap = ScrapeGap(TEST_START + 60, TEST_START + 240)
    text, written = _openmetrics(Scenario("om", TEST_START, 5, gaps=(gap,)))
    stamps = {int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if not line.startswith("#")}
    assert stamps == {TEST_START, TEST_START + 60, TEST_START + 240, TEST_START + 300}
    text, written = _openmetrics(Scenario("om", TEST_START, 5), TEST_START + 60, TEST_START + 180)
    stamps = {int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if not line.startswith("#")}
    assert stamps == {TEST_START + 60, TEST_START + 120}
    assert written == 45 * 2


def test_histogram_points_are_written_whole_and_in_order() -> None:
    text, _ = _openmetrics(Scenario("om", TEST_START, 2))
    names = [line.split("{")[0] for line in text.splitlines() if line.startswith(HISTOGRAM)]
    point = [f"{HISTOGRAM}_bucket"] * 8 + [f"{HISTOGRAM}_count", f"{HISTOGRAM}_sum"]
    assert names == point * 3


def test_the_text_format_parses_and_carries_every_series() -> None:
    dataset = generate(Scenario("text", TEST_START, 2))
    values = [column[-1] for column in dataset.values]
    text = render_text(dataset.catalog, values)
    assert "# TYPE http_requests_total counter" in text
    parsed = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parse_text(text)
        for sample in family.samples
    }
    expected = {
        (series.name, series.labels): values[i] for i, series in enumerate(dataset.catalog.series)
    }
    assert parsed == expected
    stamped = render_text(dataset.catalog, values, timestamp_ms=1_700_000_000_000)
    assert all(
        line.endswith(" 1700000000000") for line in stamped.splitlines() if not line.startswith("#")
    )


def test_values_are_spelled_shortly_and_exactly() -> None:
    assert format_value(12.0) == "12"
    assert format_value(0.1) == "0.1"
    assert format_value(346684.2) == "346684.2"
    assert float(format_value(1e20)) == 1e20
