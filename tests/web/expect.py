"""Comparing what a page shows with what the API answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.web import format as fmt

Shown = Sequence[str] | None  # (data-value, text) as the page shows a number


def same_figure(shown: Shown, value: float | None, text: str) -> str | None:
    """None when the page shows exactly `value` as `text`; else what differs."""
    if shown is None:
        return f"missing (API: {value!r})"
    raw, seen = shown
    if value is None:
        return None if raw == "" and seen == fmt.MISSING else f"{shown} but the API has none"
    if raw == "" or float(raw) != value:
        return f"value {raw!r} != API {value!r}"
    if seen != text:
        return f"text {seen!r} != {text!r}"
    return None


def mismatches(pairs: Sequence[tuple[str, Shown, float | None, str]]) -> list[str]:
    found = []
    for name, shown, value, text in pairs:
        problem = same_figure(shown, value, text)
        if problem:
            found.append(f"{name}: {problem}")
    return found


def params_of(query: str) -> list[tuple[str, str]]:
    """A page's query string as request parameters (the page uses the API's names)."""
    from urllib.parse import parse_qsl  # noqa: PLC0415

    return parse_qsl(query.removeprefix("?"))


def keys(items: Sequence[dict[str, Any]]) -> list[str]:
    return [item["key"] for item in items]


def range_params(query: str, period: str | None = None) -> dict[str, str]:
    """The API's `start`/`end` for a page's range (`period` on pages without a single period)."""
    params = dict(params_of(query))
    chosen = params.get("range", "period")
    if chosen == "custom":
        return {name: params[name] for name in ("start", "end") if params.get(name)}
    if chosen == "period":
        return {"start": f"now-{period}"} if period else {}
    return {"start": f"now-{chosen}"}
