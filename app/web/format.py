"""How numbers and times read on the pages. Tests format the API's values with these same
functions and compare the text, so a page can never round differently from what it claims."""

from __future__ import annotations

from datetime import UTC, datetime

MISSING = "—"


def percent(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def rate(value: float | None) -> str:
    """A burn rate: 1 spends the budget exactly over the period. Three significant figures
    at most past 10 (`0.70`, `15.0`, `215`), so a fast burn fits its column unbroken."""
    if value is None:
        return MISSING
    digits = 2 if abs(value) < 9.995 else 1 if abs(value) < 99.95 else 0
    return f"{value:.{digits}f}"


def counted(number: int, noun: str) -> str:
    """`1 alert`, `2 alerts`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def factor(value: float) -> str:
    """A burn-rate threshold: `14.4`, `6`, `0.93` (never `0.933333`)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def number(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def ratio(value: float | None, digits: int = 4) -> str:
    """An SLI or objective as a percentage with enough digits to tell 99.9 from 99.95."""
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def moment(value: int | float | str | datetime | None) -> str:
    """Epoch seconds, RFC 3339 or a datetime, as `2024-03-04 06:00 UTC`."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, str):
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        when = datetime.fromtimestamp(value, UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    """`3d 4h`, `5h 20m`, `12m`: two units at most, enough to act on."""
    if seconds is None:
        return MISSING
    total = int(seconds)
    if total <= 0:
        return "now"
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    parts = []
    for name, size in units:
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{name}")
        if len(parts) == 2:
            break
    return " ".join(parts)


def epoch(text: str) -> int:
    """RFC 3339 from the API (`2024-03-04T06:00:00Z`) as epoch seconds."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
