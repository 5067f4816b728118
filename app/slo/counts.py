"""Counter counts as differences of successive samples, whatever the scrape interval.

`rate(S[1m])` at a slice end needs two samples inside the minute and extrapolates from them:
with 60 s scrapes it has none to work with, with 30 s scrapes it guesses. Faultline instead
counts, per series, the last sample at or before the slice end minus the last sample at or before
the slice start (looking back up to `LOOKBACK` over scrape gaps), and after a counter reset the
value since the reset. Summed over slices these counts telescope: any window adds up to the
counter's increase between the samples at its edges, none counted twice and none lost at a slice
boundary. It is VictoriaMetrics' `increase` without extrapolation, written in plain PromQL.

A slice without a sample of its own gives no series (no data), not zero: whether nothing
happened or nothing was scraped cannot be told apart there, and the count is not lost because
the next sampled slice takes it.

The rewrite is textual, guided by the parser: `rate(SEL[{{window}}])` and
`increase(SEL[{{window}}])` are replaced in the user's text (the parser's printer does not
round-trip every string escape), then the parser checks that every such call was found and that
the result is valid PromQL; otherwise the query is left as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import promql_parser

from app.slo.durations import format_duration
from app.slo.promql import nodes
from app.slo.spec import WINDOW_PLACEHOLDER

LOOKBACK = "1h"  # how far back the previous sample is looked for, across scrape gaps
LOOKBACK_SECONDS = 3600
REWRITTEN = frozenset({"rate", "increase"})
# A window no one writes, to tell `{{window}}` calls apart from fixed ranges in the parsed query.
_SENTINEL_SECONDS = 400 * 86400 + 17
_WINDOW = re.compile(r"\[\s*" + re.escape(WINDOW_PLACEHOLDER) + r"\s*\]")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_:]")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SummedCount:
    """A rendered query that is the sum of one selector's count: `sum [by (…)] (count)`, the
    count a rewritten `increase(S[W])`, or a `rate(S[W])` (`per_second`). Such a query can be
    answered from the selector's raw samples (`app.slo.sample_sums`)."""

    selector: str
    window: int  # seconds
    closed_ranges: bool
    by: tuple[str, ...] | None  # `sum by (…)`; None for a plain `sum`
    per_second: bool


@dataclass(frozen=True)
class Rewritten:
    query: str  # ready for Prometheus, every `{{window}}` rendered
    calls: int  # how many rate()/increase() calls count differences of samples


def sample_increase(selector: str, window_seconds: int, *, closed_ranges: bool = True) -> str:
    """Per series: the increase between the last samples at or before `t - W` and `t`.

    With `fresh`, `lowest`, `highest` the last, least and greatest samples in `(t - W, t]` and
    `previous` the last one before it:

    - no reset: `fresh - previous`, for a series whose `lowest` is not below `previous`;
    - a restart between `previous` and the slice's first sample (`lowest < previous`, no reset
      inside the slice): `fresh`, the value since the restart, even when the counter has climbed
      back above `previous` by the end of the slice;
    - a reset inside the slice (a sample below the one before it, as Prometheus finds them):
      the rise up to the highest sample, plus the value since the reset.

    Empty for a series without a sample in the slice or without one before it. The long
    `previous` selector is written twice (PromQL has no common subexpressions).

    `closed_ranges`: the backend's `S[w]` at `t` holds the samples in `[t - w, t]` (Prometheus
    2.x), so `(t - W, t]` is `[W - 1ms]` on millisecond timestamps; otherwise it holds
    `(t - w, t]` (VictoriaMetrics, Prometheus 3), and `[W - 1ms]` would leave a sample at
    exactly `t - W + 1ms` out of every slice, losing its increase.
    """
    inside = f"[{window_seconds * 1000 - (1 if closed_ranges else 0)}ms]"
    fresh = f"last_over_time({selector}{inside})"
    lowest = f"min_over_time({selector}{inside})"
    highest = f"max_over_time({selector}{inside})"
    resets = f"resets({selector}{inside})"
    previous = f"last_over_time({selector}[{LOOKBACK}] offset {format_duration(window_seconds)})"
    steady = f"(({fresh} - ({previous} <= {lowest})) unless {resets} > 0)"
    restarted = f"({fresh} + clamp_min({highest} - {previous}, 0) * ({resets} > bool 0))"
    return f"({steady} or {restarted})"


@lru_cache(maxsize=8192)  # pure; asked for every signal of every SLO at every tick
def rewrite(
    template: str, window_seconds: int, *, per_second: bool = True, closed_ranges: bool = True
) -> Rewritten:
    """The template with its windowed rate()/increase() counting sample differences.

    A rewritten `rate()` is the count divided by the window (`per_second`), or the count itself
    when the caller takes the whole query as a count (a query in per-second units whose every
    rate() is rewritten: multiplying back by the window would only add rounding).
    `closed_ranges` says how the backend bounds a range (see `sample_increase`).
    """
    pieces: list[str] = []
    position = 0
    calls = 0
    for found in _WINDOW.finditer(template):
        call = _enclosing_call(template, found.start(), found.end())
        if call is None:
            continue
        name, call_start, selector, call_end = call
        counted = sample_increase(selector, window_seconds, closed_ranges=closed_ranges)
        divided = name == "rate" and per_second
        replacement = f"({counted} / {window_seconds})" if divided else counted
        pieces += [template[position:call_start], replacement]
        position = call_end
        calls += 1
    rendered = "".join(pieces) + template[position:]
    rendered = rendered.replace(WINDOW_PLACEHOLDER, format_duration(window_seconds))
    plain = template.replace(WINDOW_PLACEHOLDER, format_duration(window_seconds))
    if calls == 0 or calls != _windowed_calls(template) or not _parses(rendered):
        return Rewritten(plain, 0)
    return Rewritten(rendered, calls)


_SUMS = (
    re.compile(r"\s*sum\s*\((?P<inner>.*)\)\s*by\s*\((?P<by>[^()]*)\)\s*", re.DOTALL),
    re.compile(r"\s*sum\s*(?:by\s*\((?P<by>[^()]*)\)\s*)?\((?P<inner>.*)\)\s*", re.DOTALL),
)
_FIRST_FRESH = re.compile(
    r"\(*last_over_time\((?P<selector>.*?)\[(?P<ms>\d+)ms\]\) - \(", re.DOTALL
)


@lru_cache(maxsize=8192)
def summed_count(query: str) -> SummedCount | None:
    """What a rendered query sums when it is `sum [by (…)] (count)` of one selector exactly as
    `rewrite` writes it; None for any other query. Recognised by writing the count again from
    the selector and window found and comparing the text, so nothing else can match."""
    for pattern in _SUMS:
        whole = pattern.fullmatch(query)
        if whole is None:
            continue
        inner = whole.group("inner").strip()
        fresh = _FIRST_FRESH.match(inner)
        if fresh is None:
            continue
        selector, ms = fresh.group("selector"), int(fresh.group("ms"))
        by = whole.group("by")
        names = None if by is None else tuple(n.strip() for n in by.split(",") if n.strip())
        if names is not None and not all(_LABEL_NAME.fullmatch(name) for name in names):
            continue  # quoted (UTF-8) label names: left to the server
        for closed, window_ms in ((True, ms + 1), (False, ms)):
            if window_ms % 1000:
                continue
            window = window_ms // 1000
            counted = sample_increase(selector, window, closed_ranges=closed)
            for per_second, text in ((False, counted), (True, f"({counted} / {window})")):
                if inner == text:
                    return SummedCount(selector, window, closed, names, per_second)
    return None


def windowed_selectors(template: str) -> list[str]:
    """The selectors of the template's windowed rate()/increase() calls, in order."""
    found = []
    for match in _WINDOW.finditer(template):
        call = _enclosing_call(template, match.start(), match.end())
        if call is not None:
            found.append(call[2].replace(WINDOW_PLACEHOLDER, "1m"))
    return list(dict.fromkeys(found))


def _enclosing_call(text: str, bracket: int, end: int) -> tuple[str, int, str, int] | None:
    """(function, start, selector, end) when `[{{window}}]` at `bracket` is the whole argument
    of a rate()/increase() call with no offset or `@`; None otherwise."""
    selector_end = _skip_space_back(text, bracket)
    selector_start = _selector_start(text, selector_end)
    if selector_start is None:
        return None
    paren = _skip_space_back(text, selector_start) - 1
    if paren < 0 or text[paren] != "(":
        return None
    name_end = _skip_space_back(text, paren)
    name_start = name_end
    while name_start > 0 and _NAME_CHARS.match(text[name_start - 1]):
        name_start -= 1
    name = text[name_start:name_end]
    close = end
    while close < len(text) and text[close].isspace():
        close += 1
    if name not in REWRITTEN or close >= len(text) or text[close] != ")":
        return None
    return name, name_start, text[selector_start:selector_end].strip(), close + 1


def _skip_space_back(text: str, index: int) -> int:
    while index > 0 and text[index - 1].isspace():
        index -= 1
    return index


def _selector_start(text: str, end: int) -> int | None:
    """Start of the vector selector ending at `end`: `name`, `{...}` or `name{...}`."""
    start = end
    if end > 0 and text[end - 1] == "}":
        brace = _matching_brace(text, end - 1)
        if brace is None:
            return None
        start = brace
    while start > 0 and _NAME_CHARS.match(text[start - 1]):
        start -= 1
    return start if start < end else None


def _matching_brace(text: str, close: int) -> int | None:
    """The `{` opening the label matchers that `}` at `close` ends, skipping quoted strings."""
    opened: int | None = None
    index = 0
    quote: str | None = None
    while index < close:
        char = text[index]
        if quote is not None:
            if char == "\\" and quote != "`":
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif text.startswith(WINDOW_PLACEHOLDER, index):
            index += len(WINDOW_PLACEHOLDER)
            continue
        elif char == "{":
            opened = index
        elif char == "}":
            opened = None
        index += 1
    return opened if quote is None else None


def _windowed_calls(template: str) -> int:
    """How many rate()/increase() calls read a `{{window}}` range with no offset or `@`; -1 when
    the template is not PromQL."""
    try:
        expr = promql_parser.parse(template.replace(WINDOW_PLACEHOLDER, f"{_SENTINEL_SECONDS}s"))
    except ValueError:
        return -1  # not PromQL (MetricsQL, accepted for VictoriaMetrics): asked as written
    count = 0
    for node in nodes(expr):
        if type(node).__name__ != "Call" or node.func.name not in REWRITTEN:
            continue
        argument: Any = node.args[0] if node.args else None
        if type(argument).__name__ != "MatrixSelector":
            continue
        selector = argument.vector_selector
        plain = selector.offset is None and selector.at is None
        if plain and argument.range.total_seconds() == _SENTINEL_SECONDS:
            count += 1
    return count


def _parses(query: str) -> bool:
    try:
        promql_parser.parse(query)
    except ValueError:
        return False
    return True
