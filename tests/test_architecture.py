"""The shape of `app/` stays as docs/architecture.md describes it: no import cycle, small modules,
short functions. (The layers themselves are import-linter contracts in pyproject.toml.)"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

APP = Path(__file__).resolve().parents[1] / "app"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    """Every module of the product; migrations are generated history, not code to read."""
    return sorted(path for path in APP.rglob("*.py") if "migrations" not in path.parts)


def test_no_import_cycle_in_app() -> None:
    graph = grimp.build_graph("app")
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.append(" -> ".join((importer, *back)))
    assert cycles == []


def test_no_module_is_over_the_line_limit() -> None:
    too_long = {
        str(path.relative_to(APP.parent)): lines
        for path in _sources()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_no_function_is_over_the_line_limit() -> None:
    too_long = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                # From the first decorator, so a long decorator counts with its function.
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - first + 1
                if length > MAX_FUNCTION_LINES:
                    where = f"{path.relative_to(APP.parent)}:{node.lineno} {node.name}"
                    too_long[where] = length
    assert too_long == {}
