"""`faultline import sloth|openslo|pyrra FILE... --out DIR` and `faultline export openslo`.

The conversions are pure (`app.interop`); this module reads and writes the files. Warnings go
to stderr as `file:line:col: document: field: why`; the exit status is 1 when an input could
not be read or was invalid, 0 otherwise (warnings included).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from app.commands.helpstyle import FaultlineTyper, described
from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    out,
    settings_from,
)
from app.interop.findings import Findings
from app.interop.imported import POLICIES_SOURCE, Imported, ImportOutput, assemble
from app.interop.openslo import import_openslo
from app.interop.openslo_export import export_openslo
from app.interop.pyrra import import_pyrra
from app.interop.reader import parse_documents
from app.interop.render import to_yaml, to_yaml_documents
from app.interop.sloth import DEFAULT_PERIOD, import_sloth
from app.runtime.loading import load_definitions
from app.slo.alert_spec import AlertPolicy
from app.slo.definitions import DefinitionSet
from app.slo.durations import DurationError, parse_duration
from app.slo.problems import Problem
from app.slo.validate import load_alerts
from app.slo.yamlsource import YamlDocument
from app.sources.yamlfiles import read_yaml_document, read_yaml_text

import_app = FaultlineTyper(
    help="Convert Sloth or OpenSLO documents into Faultline YAML.", no_args_is_help=True
)
export_app = FaultlineTyper(
    help="Write the loaded definitions in another tool's format.", no_args_is_help=True
)

FilesArgument = Annotated[
    list[Path], typer.Argument(help="Input YAML files (several documents per file are fine)")
]
OutOption = Annotated[
    Path,
    typer.Option("--out", metavar="DIR", help="Directory for the service files (and alerts/)"),
]
AlertsOption = Annotated[
    Path | None,
    typer.Option(
        "--alerts",
        metavar="DIR",
        help=described(
            "The project's alert policies, which imported SLOs may use",
            env="FAULTLINE_ALERTS",
            default="alerts/",
        ),
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Overwrite files that already exist in --out")
]
ALERTS_FILE = "alerts/imported-{source}.yaml"


@import_app.command("sloth")
def import_sloth_command(
    files: FilesArgument,
    out_dir: OutOption,
    period: Annotated[
        str, typer.Option("--period", help="The SLO period Sloth used (--default-slo-period)")
    ] = DEFAULT_PERIOD,
    alerts: AlertsOption = None,
    force: ForceOption = False,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Sloth `prometheus/v1` specs (or PrometheusServiceLevel resources) to service files."""
    try:
        parse_duration(period)
    except DurationError as error:
        raise typer.BadParameter(str(error), param_hint="--period") from None
    project_alerts = alerts or settings_from(definitions, prometheus_url, database_url).alerts
    convert = partial(import_sloth, period=period)
    _import(files, out_dir, "sloth", convert, project_alerts, force)


@import_app.command("openslo")
def import_openslo_command(
    files: FilesArgument,
    out_dir: OutOption,
    alerts: AlertsOption = None,
    force: ForceOption = False,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """OpenSLO v1 documents (Service, SLO, SLI, DataSource, AlertPolicy, AlertCondition)."""
    project_alerts = alerts or settings_from(definitions, prometheus_url, database_url).alerts
    _import(files, out_dir, "openslo", import_openslo, project_alerts, force)


@import_app.command("pyrra")
def import_pyrra_command(
    files: FilesArgument,
    out_dir: OutOption,
    alerts: AlertsOption = None,
    force: ForceOption = False,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Pyrra ServiceLevelObjective resources (pyrra.dev/v1alpha1), with their grouping."""
    project_alerts = alerts or settings_from(definitions, prometheus_url, database_url).alerts
    _import(files, out_dir, "pyrra", import_pyrra, project_alerts, force)


def _import(
    files: Sequence[Path],
    out_dir: Path,
    source: str,
    convert: Callable[[list[YamlDocument]], Imported],
    project_alerts: Path,
    force: bool,
) -> None:
    documents, problems = _read(files)
    converted = convert(documents)
    converted.findings.problems.extend(problems)
    output = assemble(converted, _project_policies(project_alerts))
    findings = output.findings.sorted()
    _print(findings)
    written = _write(output, out_dir, source, force)
    slos = sum(len(data["slos"]) for data in output.services.values())
    color = "red" if findings.problems else "green"
    _say(
        f"[{color}]{slos} SLO(s)[/] in {len(output.services)} service file(s) written to "
        f"{escape(str(out_dir))}; {len(findings.warnings)} warning(s), "
        f"{len(findings.problems)} problem(s)"
    )
    for path in written:
        out.print(str(path), markup=False)
    if findings.problems:
        raise typer.Exit(1)


def _project_policies(directory: Path) -> dict[str, AlertPolicy]:
    """The alert policies an imported SLO may refer to; a broken alerts file just adds none."""
    if not directory.is_dir():
        return {}
    documents = []
    for file in sorted(path for path in directory.iterdir() if path.suffix in (".yaml", ".yml")):
        document, _ = read_yaml_document(file)
        if document is not None:
            documents.append(document)
    config, _ = load_alerts(documents)
    return dict(config.policies)


def _read(files: Sequence[Path]) -> tuple[list[YamlDocument], list[Problem]]:
    documents: list[YamlDocument] = []
    problems: list[Problem] = []
    for file in files:
        text, trouble = read_yaml_text(file)
        problems.extend(trouble)
        if text is None:
            continue
        found, trouble = parse_documents(text, str(file))
        documents.extend(found)
        problems.extend(trouble)
    return documents, problems


def _say(text: str) -> None:
    """One stderr line per message, never wrapped: `file:line:col` lines are for tools too."""
    err.print(text, highlight=False, soft_wrap=True)


def _print(findings: Findings) -> None:
    for problem in findings.problems:
        _say(f"[red]error[/] {escape(str(problem))}")
    for warning in findings.warnings:
        _say(f"[yellow]warning[/] {escape(str(warning))}")


def _header(source: str, inputs: Sequence[str]) -> str:
    return (
        f"Imported by `faultline import {source}` from {', '.join(inputs)}.\n"
        "The warnings it printed name everything that was not carried over."
    )


def _write(output: ImportOutput, out_dir: Path, source: str, force: bool) -> list[Path]:
    targets = {
        out_dir / f"{service}.yaml": to_yaml(data, _header(source, output.sources[service]))
        for service, data in output.services.items()
    }
    if output.alerts is not None:
        header = _header(source, output.sources[POLICIES_SOURCE])
        targets[out_dir / ALERTS_FILE.format(source=source)] = to_yaml(output.alerts, header)
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        for path in existing:
            _say(f"[red]error[/] {escape(str(path))} exists; pass --force to overwrite it")
        raise typer.Exit(1)
    _write_files(targets)
    return list(targets)


def _write_files(targets: dict[Path, str]) -> None:
    try:
        for path, text in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as error:
        _say(f"[red]error[/] cannot write {escape(str(error.filename))}: {error.strerror}")
        raise typer.Exit(1) from None


@export_app.command("openslo")
def export_openslo_command(
    out_text: Annotated[
        str | None,
        typer.Option(
            "--out",
            metavar="PATH",
            help="A directory, for one file per service (as `rules` and `dashboards export` "
            "write), or a file ending in .yaml or .yml for all documents; default: standard "
            "output",
        ),
    ] = None,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """OpenSLO v1 Service, SLO and AlertPolicy documents for the loaded definitions."""
    settings = settings_from(definitions, prometheus_url, database_url)
    result = load_definitions(
        settings.definitions, alerts=settings.alerts, metricsql=settings.metricsql
    )
    if result.problems:
        for problem in result.problems:
            _say(escape(str(problem)))
        _say(f"[red]{len(result.problems)} problem(s)[/]: fix the definitions first")
        raise typer.Exit(1)
    export = export_openslo(result.definitions, _service_descriptions(result.definitions))
    for warning in export.warnings:
        _say(f"[yellow]warning[/] {escape(warning)}")
    header = "OpenSLO v1, exported by `faultline export openslo`."
    if out_text is None:
        typer.echo(to_yaml_documents(export.documents, header), nl=False)
        return
    # A directory, as every other --out, unless a YAML file is named (a Path forgets a
    # trailing slash, which asks for a directory whatever the name).
    out_path = Path(out_text)
    as_file = out_path.suffix in {".yaml", ".yml"} and not out_text.endswith(("/", "\\"))
    if out_path.is_dir() or not as_file:
        targets = {
            out_path / f"{service}.yaml": to_yaml_documents(documents, header)
            for service, documents in export.services.items()
        }
        if export.alert_policies:
            policies = list(export.alert_policies.values())
            targets[out_path / "alert-policies.yaml"] = to_yaml_documents(policies, header)
    else:
        targets = {out_path: to_yaml_documents(export.documents, header)}
    _write_files(targets)
    _say(f"[green]{len(export.documents)} document(s)[/] written to {escape(str(out_path))}")


def _service_descriptions(definitions: DefinitionSet) -> dict[str, str]:
    """Service descriptions, which SLO definitions do not carry, from the service files."""
    descriptions: dict[str, str] = {}
    for source in sorted({slo.source for slo in definitions.slos}):
        document, _ = read_yaml_document(Path(source))
        data = document.data if document is not None else None
        if isinstance(data, dict) and isinstance(data.get("description"), str):
            descriptions[str(data.get("service"))] = data["description"]
    return descriptions
