"""Problems found in user files, each pinned to `file:line:col` so an editor can jump to it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file. Lines and columns are 1-based, as editors count them."""

    file: str
    line: int
    col: int
    message: str
    warning: bool = False  # worth knowing, but the definition is used as written

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}:{self.col}: {kind}{self.message}"


class DefinitionError(ValueError):
    """Raised where a caller needs valid definitions and got problems instead."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the definitions:\n{lines}")
