"""Will an SLO ever have data? Each of its queries asked of the source once, and why not.

`faultline validate --prometheus-url URL` runs this for every SLO. A query the SLI needs (the
total, good or threshold query) that returns nothing over a recent range is an error, with the
reason found by asking about the series it reads:

- no series at all (the metric does not exist, or no series matches the labels);
- series that stopped reporting (samples in the day before, none in the range: a stale gauge);
- series too sparse for a range written as a literal (`[30s]` with samples every 60 s) or for a
  threshold's slice: a warning, with the interval found and a range or slice that fits. A
  windowed `rate()`/`increase()` over `{{window}}` is not judged so: the engine counts sample
  differences and learns the interval itself (see `app/slo/counts.py`);
- the source refused the query (its own message).

A failure mode's or `bad` query may rightly return nothing (no errors yet); only a metric that
does not exist at all is worth a warning there.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import promql_parser

from app.slo import counts, promql
from app.slo.definitions import SLODefinition
from app.slo.durations import format_duration
from app.slo.queries import Signal, SignalRole, signals
from app.slo.spec import MAX_GROUPS_CAP
from app.sources.errors import QueryError
from app.sources.prometheus import PrometheusSource
from app.sources.signals import Series

Loc = tuple[int | str, ...]
DAY = 86_400
# Queries the SLI cannot do without; the others may rightly return nothing for a while.
REQUIRED = frozenset({SignalRole.TOTAL, SignalRole.GOOD, SignalRole.THRESHOLD})


@dataclass(frozen=True)
class Finding:
    """Why one query of an SLO will not give data; `loc` is where the query is, in the SLO."""

    slo: str
    loc: Loc
    severity: Literal["error", "warning"]
    reason: str
    fix: str

    @property
    def message(self) -> str:
        label = "no data" if self.severity == "error" else "warning"
        return f"{label}: {self.reason}; fix: {self.fix}"


@dataclass(frozen=True)
class _Selector:
    text: str  # `name{labels}` without offset or @, as written in a range selector
    name: str | None
    window: int | None  # the range it is read over, when inside a range selector


def signal_loc(definition: SLODefinition, signal: Signal) -> Loc:
    """Where a signal's query is written, inside the SLO's YAML item."""
    spec = definition.spec
    if signal.mode is not None:
        index = next(i for i, mode in enumerate(spec.failure_modes) if mode.name == signal.mode)
        return ("failure_modes", index, "when" if signal.role is SignalRole.MODE_WHEN else "bad")
    sli = spec.sli
    if sli is not None and sli.latency is not None:
        return ("sli", "latency", "histogram" if signal.role is SignalRole.TOTAL else "le")
    if sli is not None and sli.threshold is not None:
        return ("sli", "threshold", "query")
    return ("sli", "events", signal.role.value)


class DataCheck:
    """Asks the source about every query of SLOs, as of `at`, over the `lookback` before it."""

    def __init__(self, source: PrometheusSource, at: int, lookback: int = 3600) -> None:
        self.source = source
        self.at = at
        self.lookback = lookback

    def check(self, definition: SLODefinition) -> list[Finding]:
        """Every finding for one SLO; raises SourceUnavailableError when the source is down."""
        findings: list[Finding] = []
        for signal in signals(definition.spec):
            if signal.role is SignalRole.FRESHNESS:
                continue  # judged with the threshold query it belongs to
            finding = self._check_signal(definition, signal)
            if finding is not None:
                findings.append(finding)
        overflow = self._group_overflow(definition) if definition.spec.group_by else None
        return findings if overflow is None else [*findings, overflow]

    def _group_overflow(self, definition: SLODefinition) -> Finding | None:
        """A grouped SLO whose total answers for more groups than `max_groups` now: the rest
        would be counted in its "other" group (a warning: nothing is lost)."""
        spec = definition.spec
        # The query every group answers: the events' total, or a threshold's gauge.
        total = next(s for s in signals(spec) if s.role in (SignalRole.TOTAL, SignalRole.THRESHOLD))
        end = self.at - self.at % spec.slice_seconds
        try:
            answer = self.source.query_matrix(total.render(spec.slice_seconds), end, end, 60)
        except QueryError:
            return None  # reported with the query itself
        group_by = spec.group_by or ()
        found = len({tuple(labels.get(n, "") for n in group_by) for labels in answer.labels})
        if found <= spec.group_limit:
            return None
        return Finding(
            definition.key,
            ("max_groups",) if spec.max_groups is not None else ("group_by",),
            "warning",
            f"{found} groups answer now, more than max_groups ({spec.group_limit}): "
            f"{found - spec.group_limit} of them would be counted together in the other group",
            f"raise max_groups (at most {MAX_GROUPS_CAP}) or group by fewer labels",
        )

    def _check_signal(self, definition: SLODefinition, signal: Signal) -> Finding | None:
        slice_seconds = definition.spec.slice_seconds
        loc = signal_loc(definition, signal)
        query = signal.render(slice_seconds)

        def finding(severity: Literal["error", "warning"], reason: str, fix: str) -> Finding:
            return Finding(definition.key, loc, severity, reason, fix)

        end = self.at - self.at % slice_seconds
        start = end - max(self.lookback, 6 * slice_seconds)
        try:
            answer = self.source.query_range(query, start, end, slice_seconds)
        except QueryError as error:
            return finding(
                "error",
                f"the source refused the query: {error.message}",
                "change the query so that the source accepts it",
            )
        required = signal.role in REQUIRED
        threshold = signal.role is SignalRole.THRESHOLD
        if answer and not (threshold and self._stale(definition, start, end)):
            return None
        # The query as written: the rewritten one reads other ranges than the user chose.
        written = promql.render(signal.template, slice_seconds)
        learned = signal.counts_events and counts.rewrite(signal.template, slice_seconds).calls > 0
        for selector in _selectors(written):
            cause = self._selector_cause(selector, slice_seconds, threshold, required, learned)
            if cause is not None:
                return finding(*cause)
        if required and not answer:
            return finding(
                "error",
                f"`{query}` returns no series between {_span(start, end)}, although every "
                "series it reads has samples",
                "check that its parts match on the same labels (`/`, `and`, `on(...)`)",
            )
        return None

    def _stale(self, definition: SLODefinition, start: int, end: int) -> bool:
        """Whether a threshold's gauges go without a sample inside every slice."""
        fresh = next((s for s in signals(definition.spec) if s.role is SignalRole.FRESHNESS), None)
        if fresh is None:
            return False
        step = definition.spec.slice_seconds
        return not self.source.query_range(fresh.render(step), start, end, step)

    def _selector_cause(
        self,
        selector: _Selector,
        slice_seconds: int,
        gauge: bool,
        required: bool,
        learned: bool = False,
    ) -> tuple[Literal["error", "warning"], str, str] | None:
        recent = self._counts(selector.text, self.lookback)
        if recent is None:
            return None
        if not recent:
            return self._missing(selector, required)
        interval = math.ceil(self.lookback / max(recent))
        window = slice_seconds if gauge else selector.window
        if (
            window is None
            or (learned and window == slice_seconds)  # `{{window}}`: the engine fits the slice
            or (gauge and interval <= window)
            or (not gauge and window >= 2 * interval)
        ):
            return None
        fitting = format_duration(60 * math.ceil(2 * interval / 60))
        if gauge:
            reason = (
                f"`{selector.text}` has samples every {interval} s, but the slice is "
                f"{format_duration(slice_seconds)}: many slices hold no fresh sample"
            )
            return "warning", reason, f"set `slice: {fitting}`"
        holds = "never holds" if window <= interval else "does not always hold"
        # `{{window}}` renders as the slice; any other range was written as it is.
        templated = window == slice_seconds
        named = "`{{window}}` is " if templated else "its range is "
        reason = (
            f"`{selector.text}` has samples every {interval} s, but {named}"
            f"{format_duration(window)}: a window {holds} two samples"
        )
        fix = f"set `slice: {fitting}`" if templated else f"widen the range to [{fitting}]"
        return "warning", reason, fix

    def _missing(
        self, selector: _Selector, required: bool
    ) -> tuple[Literal["error", "warning"], str, str]:
        severity: Literal["error", "warning"] = "error" if required else "warning"
        since = f"in the {format_duration(self.lookback)} before {_when(self.at)}"
        if self._counts(selector.text, DAY):
            return (
                severity,
                f"`{selector.text}` has no fresh samples: none {since}, some in the day before "
                "(the target stopped reporting)",
                "check that its target is scraped (Prometheus' `up` and targets page)",
            )
        named = selector.name is not None and selector.text != selector.name
        if named and self._counts(f'{{__name__="{selector.name}"}}', self.lookback):
            reason = f"metric `{selector.name}` exists, but no series matches `{selector.text}`"
            fix = "check the label names and values against the metric's series"
        else:
            reason = f"no series `{selector.text}` at all {since}"
            fix = "check the metric name (a typo, or an exporter that is not scraped)"
        if not required:
            fix += "; fine if the metric only appears with the first failure"
        return severity, reason, fix

    def _counts(self, selector: str, seconds: int) -> list[float] | None:
        """Samples per series of `selector` in the `seconds` before `at` (none when the source
        will not say: the finding then stays general)."""
        query = f"count_over_time({selector}[{format_duration(seconds)}])"
        try:
            answer: Series = self.source.query_range(query, self.at, self.at, 60)
        except QueryError:
            return None
        return [count for values in answer.values() for count in values if count > 0]


def _selectors(query: str) -> list[_Selector]:
    """Every series selector of a query, with the range it is read over (PromQL only: a query
    the parser cannot read, such as MetricsQL, gives none)."""
    try:
        expr = promql_parser.parse(query)
    except ValueError:
        return []
    found: dict[str, _Selector] = {}
    for node in promql.nodes(expr):
        kind = type(node).__name__
        if kind == "MatrixSelector":
            selector, window = node.vector_selector, int(node.range.total_seconds())
        elif kind == "VectorSelector":
            selector, window = node, None
        else:
            continue
        text = (selector.name or "") + _matchers(selector.matchers)
        found.setdefault(text, _Selector(text, selector.name or None, window))
    return list(found.values())


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _matchers(matchers: Any) -> str:
    """Label matchers as PromQL again (the parser's own string drops the escapes of values)."""
    if getattr(matchers, "or_matchers", None):
        return str(matchers)  # `or` inside braces: rare; shown as the parser prints it
    parts = [
        f"{m.name}{_OPS[str(m.op).rpartition('.')[2]]}{json.dumps(m.value)}"
        for m in matchers.matchers
    ]
    return "{" + ",".join(parts) + "}" if parts else ""


def _when(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(start: int, end: int) -> str:
    return f"{_when(start)} and {_when(end)}"
