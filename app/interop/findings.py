"""What a conversion reports besides its output: warnings for what it could not carry over, and
problems for input that is unreadable or invalid.

Both point at `file:line:col` of the input, name the document (`SLO checkout-success`) and the
field path inside it (`spec.indicator.spec.ratioMetric.raw`), and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.slo.problems import Problem
from app.slo.yamlsource import YamlDocument, describe_loc

Loc = tuple[int | str, ...]


@dataclass(frozen=True, order=True)
class ConversionWarning:
    """Something in an input document that the output does not carry, or carries differently."""

    file: str
    line: int
    col: int
    document: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.document}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Origin:
    """A place in an input document: the document, a human label for it, and a field path."""

    document: YamlDocument
    label: str
    loc: Loc = ()

    def at(self, *loc: int | str) -> Origin:
        return Origin(self.document, self.label, self.loc + loc)

    @property
    def path(self) -> str:
        return describe_loc(self.loc)

    def position(self) -> tuple[int, int]:
        _, line, col = self.document.resolve(self.loc)
        return line, col


@dataclass
class Findings:
    """Collects warnings and problems while a conversion runs."""

    warnings: list[ConversionWarning] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def warn(self, origin: Origin, message: str) -> None:
        line, col = origin.position()
        self.warnings.append(
            ConversionWarning(origin.document.file, line, col, origin.label, origin.path, message)
        )

    def error(self, origin: Origin, message: str) -> None:
        """Invalid input: the element is skipped, and the command exits non-zero."""
        line, col = origin.position()
        where = f"{origin.label}: {origin.path}" if origin.loc else origin.label
        text = f"{where}: {message}"
        self.problems.append(Problem(origin.document.file, line, col, text))

    def sorted(self) -> Findings:
        return Findings(sorted(set(self.warnings)), sorted(set(self.problems)))
