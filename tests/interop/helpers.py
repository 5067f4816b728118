"""Shared by the interop tests: the fixture documents, converting them, loading what was written."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from app.cli import cli
from app.interop.imported import ImportOutput, assemble
from app.interop.openslo import import_openslo
from app.interop.reader import parse_documents
from app.interop.sloth import import_sloth
from app.runtime.loading import LoadResult, load_definitions
from app.slo.yamlsource import YamlDocument

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ROOT / "tests" / "interop" / "documents"
SLOTH = sorted((DOCUMENTS / "sloth").glob("*.yml"))
OPENSLO = sorted((DOCUMENTS / "openslo").glob("*.yaml"))
CATALOG = ROOT / "slo_definitions" / "design_choices.yaml"


def documents(*paths: Path) -> list[YamlDocument]:
    found: list[YamlDocument] = []
    for path in paths:
        parsed, problems = parse_documents(path.read_text(), str(path.relative_to(ROOT)))
        assert not problems, problems
        found += parsed
    return found


def sloth(*names: str, period: str = "30d") -> ImportOutput:
    return assemble(import_sloth(documents(*(DOCUMENTS / "sloth" / n for n in names)), period))


def openslo(*names: str) -> ImportOutput:
    return assemble(import_openslo(documents(*(DOCUMENTS / "openslo" / n for n in names))))


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def load_written(directory: Path, alerts: Path | None = None) -> LoadResult:
    """What `faultline validate DIR DIR/alerts` checks: the files an import wrote (with the
    project's `alerts` directory, when the SLOs use its policies)."""
    extra = [directory / "alerts"] if (directory / "alerts").is_dir() else []
    return load_definitions(directory, alerts=alerts, extra_paths=extra, catalog=CATALOG)


def warnings_of(output: ImportOutput) -> list[str]:
    """Warnings as `document: field: message` (positions are checked where they matter)."""
    return [f"{w.document}: {w.field}: {w.message}" for w in output.findings.sorted().warnings]
