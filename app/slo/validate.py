"""From parsed YAML documents to a `DefinitionSet`, with every problem pinned to `file:line:col`.

Each SLO is validated on its own, so one broken SLO never takes its neighbours down: the others
load, and the broken one is reported. All problems of all files come back in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any

from pydantic import Field

from app.slo import promql
from app.slo.catalog import Catalog
from app.slo.corrections import Correction
from app.slo.definitions import AlertsConfig, DefinitionSet, SLODefinition
from app.slo.problems import Problem
from app.slo.queries import query_unit
from app.slo.salvage import is_replaced, salvage
from app.slo.spec import LABEL_NAME_PATTERN, NAME_PATTERN, WINDOW_PLACEHOLDER, SLOSpec, Spec
from app.slo.validate_alerts import load_alerts
from app.slo.validate_corrections import duplicate_names, load_service_corrections
from app.slo.validate_groups import group_problems
from app.slo.yamlsource import YamlDocument, validate_model

__all__ = [
    "build_definition_set",
    "load_alerts",
    "load_catalog",
    "load_service",
    "semantic_checker",
    "semantic_problems",
]


class ServiceHeader(Spec):
    """A service file with its SLOs left unparsed, so each SLO can be validated on its own."""

    service: Annotated[str, Field(pattern=NAME_PATTERN)]
    owner: str | None = None
    description: str | None = None
    labels: dict[Annotated[str, Field(pattern=LABEL_NAME_PATTERN)], str] = Field(
        default_factory=dict
    )
    corrections: list[Any] = Field(default_factory=list)
    slos: list[Any] = Field(min_length=1)


def load_catalog(document: YamlDocument) -> tuple[Catalog | None, list[Problem]]:
    return validate_model(document, Catalog)


def load_service(
    document: YamlDocument, catalog: Catalog | None, alerts: AlertsConfig, metricsql: bool = False
) -> tuple[list[SLODefinition], list[Correction], list[Problem]]:
    """Validate one service file: the SLOs and service-wide corrections that are valid, and
    every problem found (warnings do not stop an SLO)."""
    header, problems = validate_model(document, ServiceHeader)
    if header is None:
        # The header is broken; still check each SLO so one run reports everything.
        raw = document.data.get("slos") if isinstance(document.data, dict) else None
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            problems.extend(_check_slo(document, index, item, catalog, alerts, metricsql)[1])
        return [], [], problems
    corrections, found = load_service_corrections(document, header.service, header.corrections)
    problems.extend(found)
    definitions: list[SLODefinition] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(header.slos):
        spec, found = _check_slo(document, index, item, catalog, alerts, metricsql)
        problems.extend(found)
        if spec is None:
            continue
        if spec.name in seen:
            problems.append(
                document.problem(
                    ("slos", index, "name"),
                    f"duplicate SLO name {spec.name!r} in service {header.service!r} "
                    f"(first at slos[{seen[spec.name]}])",
                )
            )
            continue
        seen[spec.name] = index
        if any(not problem.warning for problem in found):
            continue
        line, _ = document.resolve(("slos", index))[1:]
        definitions.append(
            SLODefinition(
                service=header.service,
                spec=spec,
                owner=header.owner,
                service_labels=dict(header.labels),
                source=document.file,
                line=line,
                text=document.item_text(("slos", index)),
            )
        )
    return definitions, corrections, problems


def _check_slo(
    document: YamlDocument,
    index: int,
    item: Any,
    catalog: Catalog | None,
    alerts: AlertsConfig,
    metricsql: bool = False,
) -> tuple[SLOSpec | None, list[Problem]]:
    """The spec, or None, and every problem: when the schema fails, the later checks still run
    on the rest of the SLO (`app.slo.salvage`), so one run reports every layer's problems."""
    prefix: tuple[int | str, ...] = ("slos", index)
    spec, problems = validate_model(document, SLOSpec, data=item, prefix=prefix)
    stand_in = salvage(item) if spec is None else (spec, (), ())
    if stand_in is None:
        return None, problems
    checked, replaced, hidden = stand_in
    problems.extend(document.problem(prefix, message) for message in hidden)
    checker = semantic_checker(checked, catalog, alerts, metricsql=metricsql)
    for loc, message in checker.found:
        if not is_replaced(loc, replaced):
            problems.append(document.problem(prefix + loc, message))
    for loc, message in checker.warnings:
        if not is_replaced(loc, replaced):
            problems.append(replace(document.problem(prefix + loc, message), warning=True))
    return spec, problems


def semantic_problems(
    spec: SLOSpec, catalog: Catalog | None, alerts: AlertsConfig
) -> list[tuple[Loc, str]]:
    """Rules pydantic cannot see: PromQL syntax, `{{window}}`, known design choices and policies."""
    return semantic_checker(spec, catalog, alerts).found


def semantic_checker(
    spec: SLOSpec, catalog: Catalog | None, alerts: AlertsConfig, *, metricsql: bool = False
) -> _SemanticChecker:
    """The checker after every rule ran: `found` (problems) and `warnings`.

    `metricsql`: the source is VictoriaMetrics, so a query that is not PromQL may be MetricsQL;
    it is accepted with a warning (the source itself judges it, e.g. `faultline validate
    --prometheus-url`).
    """
    checker = _SemanticChecker(spec, metricsql)
    checker.check_objective()
    checker.check_sli()
    checker.check_failure_modes(catalog)
    checker.check_alerting(alerts)
    grouping, notes = group_problems(spec)
    checker.found.extend(grouping)
    checker.warnings.extend(notes)
    checker.found.extend(
        (("corrections", *loc), message) for loc, message in duplicate_names(spec.corrections)
    )
    return checker


Loc = tuple[int | str, ...]


class _SemanticChecker:
    def __init__(self, spec: SLOSpec, metricsql: bool = False) -> None:
        self.spec = spec
        self.metricsql = metricsql
        self.found: list[tuple[Loc, str]] = []
        self.warnings: list[tuple[Loc, str]] = []

    def query(self, loc: Loc, query: str | None, *, counts_events: bool) -> bool:
        """Check one query; True when it is present and valid."""
        if query is None:
            return False
        message = promql.syntax_error(query, self.spec.slice_seconds)
        if counts_events and WINDOW_PLACEHOLDER not in query:
            self.found.append(
                (
                    loc,
                    f"the query counts events, so it needs the {WINDOW_PLACEHOLDER} placeholder "
                    f"in its range selector, e.g. rate(x[{WINDOW_PLACEHOLDER}])",
                )
            )
            if message is not None and not self.metricsql:  # both at once, not in two runs
                self.found.append((loc, f"invalid PromQL: {message}"))
            return False
        if message is not None and self.metricsql:
            return self.metricsql_query(loc, message, counts_events=counts_events)
        if message is not None:
            self.found.append((loc, f"invalid PromQL: {message}"))
            return False
        if counts_events and query_unit(self.spec, query) is None:
            self.found.append(
                (
                    loc,
                    "cannot tell whether this query returns a rate or a count; use rate(...) or "
                    "increase(...), or set `unit: rate` or `unit: count` on the events SLI",
                )
            )
            return False
        return True

    def metricsql_query(self, loc: Loc, message: str, *, counts_events: bool) -> bool:
        """A query that is not PromQL, for a VictoriaMetrics source: accepted as MetricsQL."""
        accepted = (
            f"not PromQL ({message}); accepted as MetricsQL since the source is VictoriaMetrics: "
            "check it against the source with `faultline validate --check-data`"
        )
        self.warnings.append((loc, accepted))
        events = self.spec.sli.events if self.spec.sli is not None else None
        if counts_events and (events is None or events.unit == "auto"):
            self.found.append(
                (
                    loc,
                    "the unit of a MetricsQL query cannot be read from it: set `unit: rate` or "
                    "`unit: count` on the events SLI",
                )
            )
            return False
        return True

    def check_objective(self) -> None:
        """An objective under 1 % is almost always a fraction written where a percent goes."""
        objective = self.spec.objective
        if objective < 1:
            self.warnings.append(
                (
                    ("objective",),
                    f"objective {objective:g} asks for {objective:g} % good (a budget of "
                    f"{100 - objective:g} %); objectives are percentages: for "
                    f"{objective * 100:g} % write `objective: {objective * 100:g}` (OpenSLO's "
                    "`target` is the fraction)",
                )
            )

    def check_sli(self) -> None:
        sli = self.spec.sli
        if sli is None:
            return
        if sli.events is not None:
            for role in ("total", "bad", "good"):
                self.query(("sli", "events", role), getattr(sli.events, role), counts_events=True)
        if sli.latency is not None:
            latency = sli.latency
            for query in promql.latency_queries(latency.histogram, latency.selector, latency.le):
                message = promql.syntax_error(query, self.spec.slice_seconds)
                if message is not None:
                    self.found.append(
                        (("sli", "latency", "selector"), f"invalid selector: {message}")
                    )
                    return
        if sli.threshold is not None:
            self.query(("sli", "threshold", "query"), sli.threshold.query, counts_events=False)

    def check_failure_modes(self, catalog: Catalog | None) -> None:
        for index, mode in enumerate(self.spec.failure_modes):
            loc: Loc = ("failure_modes", index)
            if catalog is not None and catalog.get(mode.design_choice) is None:
                self.found.append(
                    (
                        (*loc, "design_choice"),
                        f"unknown design choice {mode.design_choice!r}; known: "
                        f"{', '.join(catalog.names())} (add it to design_choices.yaml)",
                    )
                )
            threshold = self.spec.sli is not None and self.spec.sli.threshold is not None
            if threshold and mode.bad is not None:
                self.found.append(
                    (
                        (*loc, "bad"),
                        "a threshold SLI counts slices, not events, so its failure modes "
                        "signal with `when`, not `bad`",
                    )
                )
            else:
                self.query((*loc, "bad"), mode.bad, counts_events=True)
            valid_when = self.query((*loc, "when"), mode.when, counts_events=False)
            if (
                valid_when
                and mode.when is not None
                and promql.syntax_error(mode.when) is None
                and promql.has_bool_comparison(mode.when)
            ):
                self.found.append(
                    (
                        (*loc, "when"),
                        "a `when` condition holds while it returns series; drop the `bool` "
                        "modifier so it returns nothing when it does not hold",
                    )
                )

    def check_alerting(self, alerts: AlertsConfig) -> None:
        reference = self.spec.alerting
        policy = alerts.policies.get(reference.policy)
        if policy is None:
            self.found.append(
                (
                    ("alerting",),
                    f"unknown alert policy {reference.policy!r}; known: "
                    f"{', '.join(sorted(alerts.policies))}",
                )
            )
            return
        tiers = sorted(tier.name for tier in policy.tiers)
        for tier in reference.disabled_tiers:
            if tier not in tiers:
                self.found.append(
                    (
                        ("alerting", "disabled_tiers"),
                        f"unknown tier {tier!r} in policy {reference.policy!r}; known: "
                        f"{', '.join(tiers)}",
                    )
                )


def build_definition_set(
    service_documents: Sequence[YamlDocument],
    catalog_document: YamlDocument | None,
    alert_documents: Sequence[YamlDocument],
    metricsql: bool = False,
) -> tuple[DefinitionSet, list[Problem]]:
    """Everything valid, plus every problem; a service defined in two files is a problem."""
    problems: list[Problem] = []
    catalog: Catalog | None = None
    if catalog_document is not None:
        catalog, found = load_catalog(catalog_document)
        problems.extend(found)
    alerts, found = load_alerts(alert_documents)
    problems.extend(found)
    slos: list[SLODefinition] = []
    corrections: list[Correction] = []
    services: dict[str, str] = {}
    for document in service_documents:
        definitions, service_corrections, found = load_service(document, catalog, alerts, metricsql)
        problems.extend(found)
        if definitions:
            service = definitions[0].service
            if service in services:
                problems.append(
                    document.problem(
                        ("service",), f"service {service!r} is also defined in {services[service]}"
                    )
                )
                continue
            services[service] = document.file
            corrections.extend(service_corrections)
        slos.extend(definitions)
    return DefinitionSet(
        slos=tuple(slos),
        catalog=catalog or Catalog(design_choices={}),
        alerts=alerts,
        service_corrections=tuple(corrections),
    ), problems
