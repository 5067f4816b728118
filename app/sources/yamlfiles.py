"""User YAML files read within bounds: the I/O edge for definitions, alerts, catalogs and boards.

Never more than the size limit of `app.slo.yamlbounds` is read; parsing is the pure core's.
"""

from __future__ import annotations

from pathlib import Path

from app.slo.problems import Problem
from app.slo.yamlbounds import READ_LIMIT, decode_bounded
from app.slo.yamlsource import YamlDocument, parse_yaml


def read_yaml_text(path: Path) -> tuple[str | None, list[Problem]]:
    """A user file's text, never more than the size limit of `app.slo.yamlbounds` read."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(READ_LIMIT)
    except OSError as error:
        return None, [Problem(str(path), 1, 1, f"cannot read file: {error}")]
    return decode_bounded(raw, str(path))


def read_yaml_document(path: Path) -> tuple[YamlDocument | None, list[Problem]]:
    """One user file as a positioned YAML document, or the problems that stopped it."""
    text, problems = read_yaml_text(path)
    if text is None:
        return None, problems
    return parse_yaml(text, str(path))
