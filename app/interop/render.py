"""YAML text for converted data, laid out the way people write these files by hand."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold a PromQL query over lines
    yaml.allow_unicode = True
    return yaml


def to_yaml(data: Any, header: str = "") -> str:
    """One YAML document, after `header` (comment lines, each without the leading `# `)."""
    stream = io.StringIO()
    _yaml().dump(_styled(data), stream)
    return _comment(header) + stream.getvalue()


def to_yaml_documents(documents: Sequence[Any], header: str = "") -> str:
    """A multi-document YAML stream (`---` before each document)."""
    stream = io.StringIO()
    _yaml().dump_all([_styled(document) for document in documents], stream)
    text = stream.getvalue()
    return _comment(header) + ("" if text.startswith("---") else "---\n") + text


def _comment(header: str) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())


def _styled(value: Any, key: object = None) -> Any:
    """Labels on one line, multi-line strings as `|` blocks, whole floats as integers."""
    if isinstance(value, dict) and key == "labels" and value:
        flow = CommentedMap((name, _styled(item)) for name, item in value.items())
        flow.fa.set_flow_style()
        return flow
    if isinstance(value, dict):
        return {name: _styled(item, name) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_styled(item) for item in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value.rstrip("\n") + "\n")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
