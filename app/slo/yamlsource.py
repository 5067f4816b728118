"""YAML text to plain data plus positions, and pydantic errors back to `file:line:col`.

ruamel.yaml's round-trip loader remembers where every key and item stood; we keep its tree only to
answer "where is this path?" and hand plain dicts and lists to pydantic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from app.slo.problems import Problem
from app.slo.spec_base import KEY_RULE
from app.slo.yamlbounds import bounded_yaml, size_problems, yaml_problem

ModelT = TypeVar("ModelT", bound=BaseModel)
Loc = Sequence[int | str]


class YamlDocument:
    """A parsed YAML document: plain data for validation, positions for messages."""

    def __init__(self, file: str, tree: Any, text: str = "") -> None:
        self.file = file
        self.tree = tree
        self.text = text
        self.data = _plain(tree)

    def item_text(self, loc: Loc) -> str:
        """The source lines of the sequence item at `loc` (up to the next item or the end)."""
        *parent_loc, index = loc
        path, _line, _ = self.resolve(tuple(parent_loc))
        node = self.tree
        for element in path:
            node = node[element]
        if not isinstance(node, CommentedSeq) or not isinstance(index, int) or index >= len(node):
            return ""
        lines = self.text.splitlines()
        first = node.lc.data[index][0]
        last = node.lc.data[index + 1][0] if index + 1 < len(node) else len(lines)
        block = lines[first:last]
        while block and not block[-1].strip():
            block.pop()
        return "\n".join(block) + "\n"

    def resolve(self, loc: Loc, *, at_key: bool = False) -> tuple[tuple[int | str, ...], int, int]:
        """The path as it stands in the document, and the 1-based (line, col) it points at.

        Elements of `loc` that are not in the document (pydantic adds union tags such as
        `function-after[...]`) are dropped, so the answer is always the closest real place; a
        last element that is missing (a required key) is kept, to be named in the message.
        """
        node = self.tree
        line, col = 1, 1
        if isinstance(node, CommentedMap | CommentedSeq) and node.lc.line is not None:
            line, col = node.lc.line + 1, node.lc.col + 1
        path: list[int | str] = []
        for index, element in enumerate(loc):
            last = index == len(loc) - 1
            if isinstance(node, CommentedMap) and isinstance(element, str) and element in node:
                key_line, key_col, value_line, value_col = node.lc.data[element]
                value = node[element]
                if (last and at_key) or value_line is None:
                    line, col = key_line + 1, key_col + 1
                elif isinstance(value, CommentedMap | CommentedSeq) and value.lc.line is not None:
                    line, col = value.lc.line + 1, value.lc.col + 1
                else:
                    line, col = value_line + 1, value_col + 1
                node = value
                path.append(element)
            elif (
                isinstance(node, CommentedSeq)
                and isinstance(element, int)
                and 0 <= element < len(node)
            ):
                item_line, item_col = node.lc.data[element]
                line, col = item_line + 1, item_col + 1
                node = node[element]
                path.append(element)
            elif last and isinstance(element, str) and not _is_pydantic_tag(element):
                path.append(element)
        return tuple(path), line, col

    def problem(self, loc: Loc, message: str, *, at_key: bool = False) -> Problem:
        """A problem at `loc`, its message prefixed with the field path (`slos[0].objective`)."""
        path, line, col = self.resolve(loc, at_key=at_key)
        return Problem(self.file, line, col, f"{describe_loc(path)}: {message}")


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(item) for item in node]
    if isinstance(node, str):
        return str(node)  # ruamel's ScalarString subclasses are plain strings to everyone else
    return node


def parse_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one YAML document; a syntax error or a bomb becomes a positioned problem.

    The bounds of `app.slo.yamlbounds` apply: readers that hold a file's bytes should pass them
    through `decode_bounded` first, so that a huge file is never read whole.
    """
    if too_large := size_problems(text, file):
        return None, too_large
    try:
        tree = bounded_yaml().load(text)
    except YAMLError as error:
        return None, [yaml_problem(file, error)]
    if tree is None:
        return None, [Problem(file, 1, 1, "the file is empty")]
    return YamlDocument(file, tree, text), []


def describe_loc(loc: Loc) -> str:
    """`('slos', 0, 'sli', 'events', 'bad')` → `slos[0].sli.events.bad`."""
    text = ""
    for element in loc:
        if isinstance(element, int):
            text += f"[{element}]"
        else:
            text += f".{element}" if text else element
    return text or "(document)"


def _is_pydantic_tag(element: str) -> bool:
    """Union members and validators pydantic names in error paths, never keys of the spec."""
    return "[" in element or element[:1].isupper() or element in {"str", "int", "float", "bool"}


def validate_model(
    document: YamlDocument, model: type[ModelT], data: Any = None, prefix: Loc = ()
) -> tuple[ModelT | None, list[Problem]]:
    """Validate (part of) a document against a model; each error becomes a positioned problem.

    `data` and `prefix` validate one node of the document (an SLO item, say) while reporting
    positions relative to the whole file.
    """
    try:
        return model.model_validate(document.data if data is None else data), []
    except ValidationError as error:
        return None, problems_from_validation_error(document, error, model, prefix)


def problems_from_validation_error(
    document: YamlDocument, error: ValidationError, model: type[BaseModel], prefix: Loc = ()
) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        loc = tuple(element for element in detail["loc"] if element != "[key]")
        message = str(detail["msg"]).removeprefix("Value error, ")
        kind = detail["type"]
        if kind == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" + _allowed_keys(model, loc)
        elif kind == "missing":
            message = "required key is missing"
        at_key = kind in ("extra_forbidden", KEY_RULE)
        problems.append(document.problem((*prefix, *loc), message, at_key=at_key))
    return _dedupe(problems)


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """Name the keys that are allowed where an unknown key was found, to catch typos."""
    current: Any = model
    for element in loc[:-1]:
        if isinstance(element, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(element)
        if field is None:
            field = next(
                (f for f in getattr(current, "model_fields", {}).values() if f.alias == element),
                None,
            )
        current = _model_in(field.annotation) if field is not None else None
    if current is None or not hasattr(current, "model_fields"):
        return ""
    names = sorted(field.alias or name for name, field in current.model_fields.items())
    return f"; allowed here: {', '.join(names)}"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    unique = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique
