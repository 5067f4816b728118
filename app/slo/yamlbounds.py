"""Bounded YAML: every user file is parsed under a size, depth and expansion budget.

YAML lets a 600-byte file stand for a billion nodes (aliases of aliases: "billion laughs") and a
few kilobytes nest thousands of levels deep. ruamel.yaml composes aliases as shared nodes, so the
blow-up happens later, when the tree is copied into plain data; and its composer recurses once
per level, so deep nesting ends in a `RecursionError`. `BoundedComposer` checks both while the
events arrive, before anything is expanded or the stack grows (`BoundedScanner` stops bracket
nesting even earlier, in the tokens): nesting deeper than `MAX_DEPTH`
and documents that would expand to more than `MAX_NODES` nodes stop with an `InputLimitError`
at the offending place. Text over `MAX_FILE_BYTES` is refused before parsing.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, StringMark, YAMLError
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.scanner import RoundTripScanner

from app.slo.problems import Problem

MAX_FILE_BYTES = 1024 * 1024
# Read one byte more than allowed, to know that a file is too large without reading all of it.
READ_LIMIT = MAX_FILE_BYTES + 1
# Definitions nest a dozen levels; the composer uses two stack frames per level.
MAX_DEPTH = 100
# The document as plain data, every alias counted as the nodes it repeats.
MAX_NODES = 200_000
# A scalar weighs one node per this many characters more, so aliasing a long string is bounded too.
CHARS_PER_NODE = 256
_TOO_LARGE = f"refused: the file is larger than {MAX_FILE_BYTES:,} bytes"


class InputLimitError(MarkedYAMLError):
    """A document beyond one of the bounds above, with the place where it went beyond."""


class BoundedScanner(RoundTripScanner):
    """Flow nesting (`[[[[…`) stops in the scanner: it looks ahead a kilobyte for simple keys,
    and each open bracket it holds makes that slower (a second for 1,000 of them)."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:  # noqa: N803
        if self.flow_level >= MAX_DEPTH:
            raise _limit(self.reader.get_mark(), f"nested deeper than {MAX_DEPTH} levels")
        super().fetch_flow_collection_start(TokenClass, to_push)


class BoundedComposer(Composer):
    """ruamel's composer, counting nesting depth and expanded nodes as it goes."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.nesting = 0
        self.expanded = 0  # over the whole stream: many small documents add up as well
        self.sizes: dict[int, int] = {}  # expanded size of each anchored node, by id

    def compose_document(self) -> Any:
        self.sizes = {}  # anchors do not cross documents
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            size = self.sizes.get(id(node))
            if size is None:
                raise _limit(event.start_mark, "an alias inside the node it refers to (recursive)")
            self._grow(size, event.start_mark, "aliases expand the document to")
            return node
        if self.nesting >= MAX_DEPTH:
            raise _limit(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        before = self.expanded
        weight = 1 + len(event.value) // CHARS_PER_NODE if isinstance(event, ScalarEvent) else 1
        self._grow(weight, event.start_mark, "the document has")
        self.nesting += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.nesting -= 1
        if event.anchor is not None:
            self.sizes[id(node)] = self.expanded - before
        return node

    def _grow(self, nodes: int, mark: StringMark, what: str) -> None:
        self.expanded += nodes
        if self.expanded > MAX_NODES:
            raise _limit(mark, f"{what} more than {MAX_NODES:,} nodes")


def _limit(mark: StringMark, problem: str) -> InputLimitError:
    return InputLimitError(None, None, problem, mark)


def bounded_yaml() -> YAML:
    """The round-trip loader every user file goes through (positions kept, duplicates refused)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    yaml.Scanner = BoundedScanner
    yaml.Composer = BoundedComposer
    return yaml


def yaml_problem(file: str, error: YAMLError) -> Problem:
    """A ruamel error as a positioned problem."""
    if not isinstance(error, MarkedYAMLError):
        return Problem(file, 1, 1, f"YAML error: {error}")
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    detail = " ".join(" ".join(part for part in (error.context, error.problem) if part).split())
    if isinstance(error, InputLimitError):
        prefix = "refused"
    elif isinstance(error, DuplicateKeyError):
        prefix = "duplicate key"
    else:
        prefix = "YAML syntax error"
    return Problem(file, line, col, f"{prefix}: {detail}" if detail else prefix)


def size_problems(text: str, file: str) -> list[Problem]:
    """Text handed over whole (not read through `decode_bounded`) is held to the same size."""
    if len(text) <= MAX_FILE_BYTES:
        return []
    line, col = _position(text[: MAX_FILE_BYTES + 1].encode("utf-8"), MAX_FILE_BYTES)
    return [Problem(file, line, col, _TOO_LARGE)]


def decode_bounded(raw: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """Text from the first `READ_LIMIT` bytes of a file; too large or not UTF-8 is a problem."""
    if len(raw) > MAX_FILE_BYTES:
        line, col = _position(raw, MAX_FILE_BYTES)
        return None, [Problem(file, line, col, _TOO_LARGE)]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line, col = _position(raw, error.start)
        return None, [Problem(file, line, col, f"cannot read file: not UTF-8 ({error.reason})")]


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of a byte offset."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, offset - line_start + 1
