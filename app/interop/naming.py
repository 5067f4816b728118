"""Names and labels from other tools, made into names Faultline accepts (with a warning if changed).

Faultline names are lowercase DNS-like words (`checkout-success`); label names follow Prometheus
(`[a-zA-Z_][a-zA-Z0-9_]*`). Sloth and OpenSLO allow more (capitals, `/`, `|`), so a name that
does not fit is rewritten, and the warning says to what.
"""

from __future__ import annotations

import re

from app.interop.findings import Findings, Origin
from app.slo.spec import LABEL_NAME_PATTERN, NAME_PATTERN

_NAME = re.compile(NAME_PATTERN)
_LABEL = re.compile(LABEL_NAME_PATTERN)
_NOT_NAME_CHARS = re.compile(r"[^a-z0-9._-]+")
_NOT_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]+")
_MAX_NAME = 64


def slug(text: str) -> str:
    """The closest Faultline name: lowercase, other characters as `-`, at most 64 long."""
    candidate = _NOT_NAME_CHARS.sub("-", text.strip().lower())
    return candidate[:_MAX_NAME].strip("._-")


def faultline_name(origin: Origin, text: str, findings: Findings, what: str) -> str | None:
    """`text` as a Faultline name; a rewrite is a warning, an impossible name an error."""
    if _NAME.match(text):
        return text
    candidate = slug(text)
    if not candidate or not _NAME.match(candidate):
        findings.error(origin, f"{text!r} cannot be made into a {what} name (a-z, 0-9, . _ -)")
        return None
    findings.warn(
        origin, f"{what} name {text!r} is not a Faultline name; imported as {candidate!r}"
    )
    return candidate


def label_name(text: str) -> str:
    candidate = _NOT_LABEL_CHARS.sub("_", text.strip())
    if candidate and candidate[0].isdigit():
        candidate = f"_{candidate}"
    return candidate


def labels(origin: Origin, values: dict[str, str], findings: Findings) -> dict[str, str]:
    """Labels with Prometheus label names; a renamed key is a warning naming it."""
    result: dict[str, str] = {}
    for key, value in values.items():
        name = key if _LABEL.match(key) else label_name(key)
        if not name or not _LABEL.match(name):
            findings.warn(origin.at(key), "not a valid label name; label not imported")
            continue
        if name != key:
            findings.warn(origin.at(key), f"label {key!r} is imported as {name!r}")
        if name in result:
            findings.warn(origin.at(key), f"label {name!r} is given twice; the first one is kept")
            continue
        result[name] = value
    return result
