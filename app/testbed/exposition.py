"""Series as text: OpenMetrics with timestamps for `promtool`, and the Prometheus text format
(version 0.0.4) for the live exporter.

OpenMetrics names a counter family without its `_total` suffix, wants every family's samples
together, each series' samples in time order and each histogram point (buckets, `_count`,
`_sum`) together; timestamps are in seconds, and the file ends with `# EOF`. The output passes
prometheus_client's strict OpenMetrics parser as well as `promtool`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from app.testbed.dataset import Dataset
from app.testbed.series import Catalog, FamilyType, Series


def format_value(value: float) -> str:
    """Shortest exact spelling: integers without `.0`, other floats as `repr`."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def families(catalog: Catalog) -> list[tuple[str, FamilyType, list[int]]]:
    """(family, type, series positions) in catalog order, each family once."""
    grouped: dict[str, tuple[FamilyType, list[int]]] = {}
    for position, series in enumerate(catalog.series):
        grouped.setdefault(series.family, (series.family_type, []))[1].append(position)
    return [(name, kind, members) for name, (kind, members) in grouped.items()]


def write_openmetrics(
    dataset: Dataset, out: TextIO, start: int | None = None, end: int | None = None
) -> int:
    """Write the scraped samples with `start <= t < end` (all when None); returns their count."""
    first = 0 if start is None else bisect_left(dataset.times, start)
    stop = dataset.samples if end is None else bisect_left(dataset.times, end)
    positions = range(first, stop)
    written = 0
    for family, kind, members in families(dataset.catalog):
        out.write(f"# TYPE {family} {kind.value}\n")
        groups = _histogram_points(dataset, members) if kind is FamilyType.HISTOGRAM else members
        for group in groups:
            lines = list(_sample_lines(dataset, group, positions))
            out.writelines(lines)
            written += len(lines)
    out.write("# EOF\n")
    return written


def _histogram_points(dataset: Dataset, members: list[int]) -> list[list[int]]:
    """Histogram series grouped per label set (without `le`): OpenMetrics writes a histogram
    point as all its buckets, `_count` and `_sum` at one timestamp, then the next point."""
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for position in members:
        labels = tuple(kv for kv in dataset.catalog.series[position].labels if kv[0] != "le")
        groups.setdefault(labels, []).append(position)
    return list(groups.values())


def _sample_lines(dataset: Dataset, group: int | list[int], positions: range) -> Iterator[str]:
    """One series' samples in time order, or a histogram's points (all members per time)."""
    members = [group] if isinstance(group, int) else group
    prefixes = [dataset.catalog.series[p].selector() + " " for p in members]
    columns = [dataset.values[p] for p in members]
    mask = dataset.present[dataset.catalog.series[members[0]].target]
    for i in positions:
        if mask[i]:
            stamp = format_value(dataset.sample_time(i))
            for prefix, values in zip(prefixes, columns, strict=True):
                yield f"{prefix}{format_value(values[i])} {stamp}\n"


def write_openmetrics_file(
    dataset: Dataset, path: Path, start: int | None = None, end: int | None = None
) -> int:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        return write_openmetrics(dataset, out, start, end)


def render_text(catalog: Catalog, values: Sequence[float], timestamp_ms: int | None = None) -> str:
    """Current values in the Prometheus text exposition format, as an exporter serves them."""
    return "".join(_text_lines(catalog, values, timestamp_ms))


def _text_lines(
    catalog: Catalog, values: Sequence[float], timestamp_ms: int | None
) -> Iterator[str]:
    suffix = "" if timestamp_ms is None else f" {timestamp_ms}"
    for family, kind, members in families(catalog):
        # The text format names a counter family by its sample name (with `_total`).
        name = catalog.series[members[0]].name if kind is FamilyType.COUNTER else family
        yield f"# TYPE {name} {kind.value}\n"
        for position in members:
            series: Series = catalog.series[position]
            yield f"{series.selector()} {format_value(values[position])}{suffix}\n"
