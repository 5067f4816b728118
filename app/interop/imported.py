"""The output of an import: Faultline service files and alert policies, checked before they leave.

Converters add services, SLOs and policies as plain YAML data, each SLO with the place it came
from. `assemble` then validates every SLO exactly as `faultline validate` will (spec models,
PromQL syntax, `{{window}}`, known alert policy and tiers): an SLO that would not load is left
out with a warning naming its source, so what is written always validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.interop.findings import Findings, Origin
from app.slo.alert_spec import AlertPolicy
from app.slo.definitions import AlertsConfig
from app.slo.spec import ServiceFile, SLOSpec
from app.slo.validate import semantic_problems
from app.slo.yamlsource import describe_loc

Data = dict[str, Any]
POLICIES_SOURCE = "<alert policies>"  # the `sources` key of the alerts file


@dataclass
class ImportedSLO:
    service: str
    data: Data  # one item of a service file's `slos`
    origin: Origin


@dataclass
class Imported:
    """Everything converted so far, in input order, with what was found on the way."""

    findings: Findings = field(default_factory=Findings)
    services: dict[str, Data] = field(default_factory=dict)  # name → owner/description/labels
    slos: list[ImportedSLO] = field(default_factory=list)
    policies: dict[str, Data] = field(default_factory=dict)

    def add_service(self, name: str, header: Data, origin: Origin) -> None:
        """Register a service; a second, different description of it is a warning."""
        known = self.services.get(name)
        if known is None:
            self.services[name] = header
            return
        for key, value in header.items():
            if known.get(key) in (None, {}, ""):
                known[key] = value
            elif value not in (None, {}, "") and known[key] != value:
                self.findings.warn(
                    origin, f"service {name!r} was already given another {key}; the first is kept"
                )


@dataclass(frozen=True)
class ImportOutput:
    """Service files (service name → data) and an alerts file, ready to write."""

    services: dict[str, Data]
    alerts: Data | None
    findings: Findings
    sources: dict[str, list[str]]  # service (or POLICIES_SOURCE) → the input files used


def assemble(
    imported: Imported, known_policies: Mapping[str, AlertPolicy] | None = None
) -> ImportOutput:
    """Group SLOs by service and keep only those `faultline validate` will accept.

    `known_policies` are the alert policies of the project the files are for (its `alerts/`);
    an SLO may use them, Faultline's built-in `default`, or a policy the import created.
    """
    findings = imported.findings
    alerts = AlertsConfig(
        policies={
            "default": AlertPolicy(),
            **(known_policies or {}),
            **{name: AlertPolicy.model_validate(data) for name, data in imported.policies.items()},
        }
    )
    files: dict[str, Data] = {}
    first_origin: dict[str, Origin] = {}
    for item in imported.slos:
        spec = _checked(item, alerts, findings)
        if spec is None:
            continue
        header = _present(imported.services.get(item.service, {}))
        service_file = files.setdefault(
            item.service, {"service": item.service, **header, "slos": []}
        )
        first_origin.setdefault(item.service, item.origin)
        if any(slo["name"] == spec.name for slo in service_file["slos"]):
            findings.warn(
                item.origin,
                f"service {item.service!r} already has an SLO named {spec.name!r}; not imported",
            )
            continue
        service_file["slos"].append(item.data)
    services: dict[str, Data] = {}
    for name, data in files.items():
        try:
            ServiceFile.model_validate(data)
        except ValidationError as error:
            details = "; ".join(_details(error))
            findings.warn(first_origin[name], f"service {name!r} would not be valid ({details})")
            continue
        services[name] = data
    used = {_policy_of(slo) for data in services.values() for slo in data["slos"]}
    policies = {name: data for name, data in imported.policies.items() if name in used}
    sources = {
        name: sorted({item.origin.document.file for item in imported.slos if item.service == name})
        for name in services
    }
    sources.update(
        {
            POLICIES_SOURCE: sorted(
                {
                    item.origin.document.file
                    for item in imported.slos
                    if item.service in services and _policy_of(item.data) in policies
                }
            )
        }
        if policies
        else {}
    )
    alerts_file = {"policies": policies} if policies else None
    return ImportOutput(services, alerts_file, findings, sources)


def _details(error: ValidationError) -> list[str]:
    return [
        f"{describe_loc(tuple(detail['loc']))}: {str(detail['msg']).removeprefix('Value error, ')}"
        for detail in error.errors(include_url=False)
    ]


def _present(header: Data) -> Data:
    return {key: value for key, value in header.items() if value not in (None, {}, "")}


def _policy_of(slo: Data) -> str:
    alerting = slo.get("alerting", "default")
    return alerting if isinstance(alerting, str) else str(alerting.get("policy", "default"))


def _checked(item: ImportedSLO, alerts: AlertsConfig, findings: Findings) -> SLOSpec | None:
    """The SLO as Faultline will load it, or None (with a warning) if it would not load."""
    where = f"SLO {item.service}/{item.data.get('name')}"
    try:
        spec = SLOSpec.model_validate(item.data)
    except ValidationError as error:
        details = "; ".join(_details(error))
        findings.warn(item.origin, f"{where} would not be valid ({details}); not imported")
        return None
    problems = semantic_problems(spec, None, alerts)
    if problems:
        details = "; ".join(f"{describe_loc(loc)}: {message}" for loc, message in problems)
        findings.warn(item.origin, f"{where} would not be valid ({details}); not imported")
        return None
    return spec
