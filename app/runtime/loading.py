"""Read definition files from disk: the edge where paths become YAML documents.

Everything after reading is pure (`app.slo.validate`); this module only finds and reads files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.runtime.settings import Settings
from app.slo.definitions import AlertsConfig, DefinitionSet
from app.slo.problems import Problem
from app.slo.validate_alerts import load_alerts
from app.slo.yamlsource import YamlDocument, parse_yaml
from app.sources.yamlfiles import read_yaml_document, read_yaml_text

CATALOG_FILE = "design_choices.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
ALERT_KEYS = frozenset({"policies", "receivers", "routes", "budget_policy", "incidents"})
# What a report takes from the alert files; a file without either (routes, receivers) adds
# nothing to them, whatever else it holds.
_REPORT_KEY_LINE = re.compile(r"^(budget_policy|incidents)\s*:", re.MULTILINE)


@dataclass(frozen=True)
class LoadResult:
    definitions: DefinitionSet
    problems: list[Problem]
    files: list[Path]
    warnings: list[Problem] = field(default_factory=list)  # the definitions are used anyway

    @property
    def ok(self) -> bool:
        return not self.problems


def _yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
    return [path]


def _read(path: Path, problems: list[Problem]) -> YamlDocument | None:
    document, found = read_yaml_document(path)
    problems.extend(found)
    return document


def load_definitions(
    definitions: Path,
    alerts: Path | None = None,
    extra_paths: Iterable[Path] = (),
    catalog: Path | None = None,
    *,
    metricsql: bool = False,
) -> LoadResult:
    """Load SLO files, the design-choice catalog and alert policies; report every problem.

    `definitions` is the directory of service files (its `design_choices.yaml` is the catalog).
    `extra_paths` are further files or directories to check, as `faultline validate PATH...`
    passes them: a file named `design_choices.yaml` is a catalog, a file with `policies:`,
    `receivers:` or `routes:` at the top is an alerts file, anything else a service file.
    `catalog` is the catalog to use when none of those paths holds one. `metricsql`: the source
    is VictoriaMetrics; a query that is not PromQL is accepted with a warning.
    """
    problems: list[Problem] = []
    files = _collect(definitions, alerts, extra_paths, problems)
    catalog_path = (definitions if definitions.is_dir() else definitions.parent) / CATALOG_FILE
    if not catalog_path.is_file() and catalog is not None:
        catalog_path = catalog
    has_catalog = any(file.name == CATALOG_FILE for file in files)
    if catalog_path.is_file() and not has_catalog:
        files.append(catalog_path)

    service_docs: list[YamlDocument] = []
    alert_docs: list[YamlDocument] = []
    catalog_doc: YamlDocument | None = None
    for file in files:
        document = _read(file, problems)
        if document is None:
            continue
        if file.name == CATALOG_FILE:
            catalog_doc = document
        elif _looks_like_alerts(document):
            alert_docs.append(document)
        else:
            service_docs.append(document)
    if catalog_doc is None and not any(file.name == CATALOG_FILE for file in files):
        problems.append(
            Problem(
                str(catalog_path),
                1,
                1,
                "design-choice catalog not found; failure modes cannot be checked without it "
                "(copy slo_definitions/design_choices.yaml)",
            )
        )
    # Here, not at the top: a report reads only the alert files and needs none of it.
    from app.slo.validate import build_definition_set  # noqa: PLC0415

    definition_set, found = build_definition_set(service_docs, catalog_doc, alert_docs, metricsql)
    problems.extend(found)
    warnings = sorted({problem for problem in problems if problem.warning})
    errors = sorted({problem for problem in problems if not problem.warning})
    return LoadResult(definition_set, errors, files, warnings)


def load(settings: Settings) -> LoadResult:
    """The definitions and alert files the settings name: what `serve`, commands and reload read."""
    return load_definitions(
        settings.definitions, alerts=settings.alerts, metricsql=settings.metricsql
    )


def load_alerts_config(settings: Settings) -> AlertsConfig:
    """What a report needs from the YAML: the budget policy and the incident rule, from the
    alert files that set either, without parsing and validating every SLO or the other alert
    files (so the policies, receivers and routes are only those of the files read).

    As with `load`, what is invalid is left out; `faultline validate` reports it.
    """
    documents = []
    for file in _collect(settings.definitions, settings.alerts, (), []):
        text, _ = read_yaml_text(file)
        if file.name == CATALOG_FILE or text is None or not _REPORT_KEY_LINE.search(text):
            continue
        document, _ = parse_yaml(text, str(file))
        if document is not None and _looks_like_alerts(document):
            documents.append(document)
    alerts, _ = load_alerts(documents)
    return alerts


def _collect(
    definitions: Path, alerts: Path | None, extra_paths: Iterable[Path], problems: list[Problem]
) -> list[Path]:
    """Every YAML file to read, once each, in a stable order."""
    files: list[Path] = []
    roots = [definitions, *extra_paths]
    if alerts is not None and alerts.is_dir():
        roots.append(alerts)
    for root in roots:
        if not root.exists():
            problems.append(Problem(str(root), 1, 1, "no such file or directory"))
            continue
        for file in _yaml_files(root):
            if file.resolve() not in {known.resolve() for known in files}:
                files.append(file)
    return files


def _looks_like_alerts(document: YamlDocument) -> bool:
    data = document.data
    return isinstance(data, dict) and "service" not in data and bool(ALERT_KEYS & set(data))
