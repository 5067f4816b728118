"""Reading foreign YAML documents field by field, so that no field goes unnoticed.

`parse_documents` splits a (multi-document) YAML stream into positioned documents. A `Node` wraps
one mapping of a document: converters ask it for the fields they understand, and `unread()` warns
about every field nobody asked for. That is how "nothing is dropped silently" is kept: a field a
converter does not know is reported, not ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from app.interop.findings import Findings, Origin
from app.slo.problems import Problem
from app.slo.yamlbounds import bounded_yaml, size_problems, yaml_problem
from app.slo.yamlsource import YamlDocument


def parse_documents(text: str, file: str) -> tuple[list[YamlDocument], list[Problem]]:
    """Every non-empty document of a YAML stream; a syntax error becomes a positioned problem.

    Documents before a syntax error are kept, so one broken document in a file of ten still lets
    the other nine convert.
    """
    documents: list[YamlDocument] = []
    problems: list[Problem] = size_problems(text, file)
    if problems:
        return documents, problems
    try:
        for tree in bounded_yaml().load_all(text):
            if tree is None:
                continue
            if not isinstance(tree, CommentedMap):
                line = (tree.lc.line + 1) if hasattr(tree, "lc") and tree.lc.line is not None else 1
                problems.append(Problem(file, line, 1, "a document must be a mapping"))
                continue
            documents.append(YamlDocument(file, tree, text))
    except YAMLError as error:
        problems.append(yaml_problem(file, error))
    if not documents and not problems:
        problems.append(Problem(file, 1, 1, "the file holds no YAML document"))
    return documents, problems


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


class Node:
    """One mapping of an input document, read field by field."""

    def __init__(self, origin: Origin, data: Mapping[str, Any], findings: Findings) -> None:
        self.origin = origin
        self.data = data
        self.findings = findings
        self._read: set[str] = set()

    @classmethod
    def root(cls, document: YamlDocument, label: str, findings: Findings) -> Node:
        data = document.data if isinstance(document.data, Mapping) else {}
        return cls(Origin(document, label), data, findings)

    def at(self, *names: int | str) -> Origin:
        return self.origin.at(*names)

    def _pick(self, names: tuple[str, ...]) -> tuple[str, Any] | None:
        """The first of `names` present (Sloth and Kubernetes spell some keys two ways)."""
        self._read.update(names)
        for name in names:
            if name in self.data and self.data[name] is not None:
                return name, self.data[name]
        return None

    def has(self, *names: str) -> bool:
        return any(name in self.data and self.data[name] is not None for name in names)

    def key(self, *names: str) -> str:
        """The spelling of a field as the document has it (for messages)."""
        return next((name for name in names if name in self.data), names[0])

    def _missing(self, names: tuple[str, ...], required: bool) -> None:
        if required:
            self.findings.error(self.at(names[0]), "required field is missing")

    def _wrong(self, name: str, expected: str, value: object) -> None:
        self.findings.error(self.at(name), f"expected {expected}, found {_kind(value)}")

    def raw(self, *names: str) -> Any:
        picked = self._pick(names)
        return None if picked is None else picked[1]

    def text(self, *names: str, required: bool = False) -> str | None:
        picked = self._pick(names)
        if picked is None:
            self._missing(names, required)
            return None
        name, value = picked
        if isinstance(value, bool | Mapping | list):
            self._wrong(name, "a string", value)
            return None
        text = str(value).strip()
        if not text:
            self._missing(names, required)
            return None
        return text

    def number(self, *names: str, required: bool = False) -> float | None:
        picked = self._pick(names)
        if picked is None:
            self._missing(names, required)
            return None
        name, value = picked
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong(name, "a number", value)
            return None
        return float(value)

    def flag(self, *names: str) -> bool | None:
        picked = self._pick(names)
        if picked is None:
            return None
        name, value = picked
        if not isinstance(value, bool):
            self._wrong(name, "true or false", value)
            return None
        return value

    def mapping(self, *names: str, required: bool = False) -> Node | None:
        picked = self._pick(names)
        if picked is None:
            self._missing(names, required)
            return None
        name, value = picked
        if not isinstance(value, Mapping):
            self._wrong(name, "a mapping", value)
            return None
        return Node(self.at(name), value, self.findings)

    def sequence(self, *names: str, required: bool = False) -> list[tuple[Origin, Any]]:
        picked = self._pick(names)
        if picked is None:
            self._missing(names, required)
            return []
        name, value = picked
        if not isinstance(value, list):
            self._wrong(name, "a list", value)
            return []
        return [(self.at(name, index), item) for index, item in enumerate(value)]

    def strings(self, *names: str) -> dict[str, str]:
        """A map of strings (labels, annotations); numbers are read as their text."""
        picked = self._pick(names)
        if picked is None:
            return {}
        name, value = picked
        if not isinstance(value, Mapping):
            self._wrong(name, "a mapping of strings", value)
            return {}
        result: dict[str, str] = {}
        for key, item in value.items():
            if isinstance(item, Mapping | list) or item is None:
                self.findings.error(self.at(name, key), f"expected a string, found {_kind(item)}")
                continue
            result[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
        return result

    def skip(self, name: str, why: str) -> None:
        """A known field Faultline has no place for: warn when it is set."""
        self._read.add(name)
        if self.has(name):
            self.findings.warn(self.at(name), why)

    def unread(self) -> None:
        """Warn about every field no converter asked for."""
        for name in self.data:
            if name not in self._read:
                self.findings.warn(self.at(name), "unknown field; not imported")


def child(origin: Origin, value: Any, findings: Findings, label: str | None = None) -> Node | None:
    """A list item as a Node (named `label` in messages), or an error when it is no mapping."""
    if not isinstance(value, Mapping):
        findings.error(origin, f"expected a mapping, found {_kind(value)}")
        return None
    if label is not None:
        origin = Origin(origin.document, label, origin.loc)
    return Node(origin, value, findings)
