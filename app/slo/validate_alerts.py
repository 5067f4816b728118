"""Validation of alert files: policies, receivers and routes merged over every file.

A name defined twice is a problem at its second definition; a route's receiver may be defined
in any of the files.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.slo.alert_spec import AlertPolicy, AlertsFile, BudgetPolicy, IncidentRule
from app.slo.definitions import AlertsConfig
from app.slo.problems import Problem
from app.slo.yamlsource import YamlDocument, validate_model


def load_alerts(documents: Sequence[YamlDocument]) -> tuple[AlertsConfig, list[Problem]]:
    """Merge all alert files; a name defined twice is a problem at its second definition."""
    problems: list[Problem] = []
    policies: dict[str, AlertPolicy] = {}
    receivers = {}
    routes = []
    budget_policy: BudgetPolicy | None = None
    incidents: IncidentRule | None = None
    dashboard_url = None
    for document in documents:
        parsed, found = validate_model(document, AlertsFile)
        problems.extend(found)
        if parsed is None:
            continue
        for name, policy in parsed.policies.items():
            if name in policies:
                problems.append(
                    document.problem(
                        ("policies", name), f"policy {name!r} is defined twice", at_key=True
                    )
                )
            policies[name] = policy
        for name, receiver in parsed.receivers.items():
            if name in receivers:
                problems.append(
                    document.problem(
                        ("receivers", name), f"receiver {name!r} is defined twice", at_key=True
                    )
                )
            receivers[name] = receiver
        for index, route in enumerate(parsed.routes):
            routes.append(route)
            if route.receiver not in receivers and not _defined_later(route.receiver, documents):
                problems.append(
                    document.problem(
                        ("routes", index, "receiver"),
                        f"unknown receiver {route.receiver!r}",
                    )
                )
        budget_policy = parsed.budget_policy or budget_policy
        incidents = parsed.incidents or incidents
        dashboard_url = parsed.dashboard_url or dashboard_url
    if "default" not in policies:
        policies["default"] = AlertPolicy()
    config = AlertsConfig(
        policies=policies,
        budget_policy=budget_policy or BudgetPolicy(),
        incidents=incidents or IncidentRule(),
        receivers=receivers,
        routes=tuple(routes),
        dashboard_url=dashboard_url,
    )
    return config, problems


def _defined_later(receiver: str, documents: Sequence[YamlDocument]) -> bool:
    return any(
        isinstance(document.data, dict)
        and isinstance(document.data.get("receivers"), dict)
        and receiver in document.data["receivers"]
        for document in documents
    )
