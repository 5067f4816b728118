"""The data half of `faultline validate`: findings about the source, pinned to `file:line:col`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import typer

from app.commands.options import err, out
from app.runtime.settings import Settings
from app.runtime.wiring import source_config
from app.slo.definitions import SLODefinition
from app.slo.problems import Problem
from app.slo.timeparse import parse_time
from app.slo.yamlsource import YamlDocument
from app.sources.datacheck import DataCheck, Finding
from app.sources.errors import SourceUnavailableError
from app.sources.prometheus import PrometheusSource
from app.sources.yamlfiles import read_yaml_document


def check_sources_data(settings: Settings, slos: Sequence[SLODefinition], at: str | None) -> bool:
    """Print every finding; False when some SLO can never have data. Exits 2 when the source
    cannot be asked at all (down, refusing the credentials, not Prometheus)."""
    try:
        moment = parse_time(at) if at else int(time.time())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--at") from None
    source = PrometheusSource(source_config(settings))
    check = DataCheck(source, moment)
    found: list[tuple[SLODefinition, Finding]] = []
    try:
        for definition in slos:
            found.extend((definition, finding) for finding in check.check(definition))
    except SourceUnavailableError as error:
        err.print(f"[red]cannot check the data[/]: {error}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    documents: dict[str, YamlDocument | None] = {}
    for problem in sorted(_pinned(definition, finding, documents) for definition, finding in found):
        out.print(str(problem), markup=False)
    never = {finding.slo for _, finding in found if finding.severity == "error"}
    warnings = sum(finding.severity == "warning" for _, finding in found)
    summary = (
        f"data: {len(slos)} SLO(s) checked against {source.shown_url} "
        f"({settings.prometheus_kind}): {len(never)} can never have data as written, "
        f"{warnings} warning(s)"
    )
    err.print(summary, style="red" if never else None, markup=False, highlight=False)
    return not never


def _pinned(
    definition: SLODefinition, finding: Finding, documents: dict[str, YamlDocument | None]
) -> Problem:
    """The finding at the position of its query in the SLO's file (the SLO's line if lost)."""
    if definition.source not in documents:
        documents[definition.source] = read_yaml_document(Path(definition.source))[0]
    document = documents[definition.source]
    items = document.data.get("slos") if document and isinstance(document.data, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("name") == definition.name and document:
            return document.problem(("slos", index, *finding.loc), finding.message)
    return Problem(definition.source, definition.line, 1, finding.message)
