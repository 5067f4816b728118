"""Grafana dashboards over Faultline's `/metrics` gauges, generated from the definitions.

`faultline dashboards export` writes one overview (every SLO and failure mode, with Faultline's
own health) and one dashboard per service, whose burn-rate panels draw each SLO's alert-tier
factors as thresholds, derived exactly as the alerting engine derives them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.interop.grafana_panels import (
    BUDGET_THRESHOLDS,
    Layout,
    bar_gauge,
    dashboard,
    datasource_variable,
    query_variable,
    self_monitoring,
    stat,
    table,
    target,
    thresholds,
    timeseries,
)
from app.slo import conventions
from app.slo.burn_alerts import burn_rate_factor, effective_tiers
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.windows import period_seconds

REMAINING = conventions.SLO_BUDGET_REMAINING
BURN = conventions.SLO_BURN_RATE
MODE = conventions.SLO_MODE_CONSUMED
UNATTRIBUTED = conventions.SLO_UNATTRIBUTED_CONSUMED
SLI = conventions.SLO_SLI
OBJECTIVE = conventions.SLO_OBJECTIVE
STATUS = conventions.SLO_STATUS
POLICY = conventions.SLO_POLICY_STATE
OK = conventions.Status.OK
AT_RISK, EXHAUSTED = conventions.PolicyState.AT_RISK, conventions.PolicyState.EXHAUSTED
TAGS = ["faultline", "slo"]
OVERVIEW_UID = "faultline-overview"
BURN_WINDOWS = "5m|1h|6h|1d|3d"
TIER_COLOURS = ("red", "orange", "yellow", "blue", "purple")


def overview(definitions: DefinitionSet) -> dict[str, Any]:
    """Every SLO and failure mode; `$service`, `$design_choice` and `$failure_mode` narrow it."""
    svc = 'service=~"$service"'
    modes = f'{svc}, design_choice=~"$design_choice", failure_mode=~"$failure_mode"'
    layout = Layout()
    layout.row("Error budgets")
    layout.add(
        bar_gauge(
            "Error budget remaining, worst first",
            [target(f"sort({REMAINING}{{{svc}}})", "{{service}}/{{slo}}", instant=True)],
            unit="percentunit",
            minimum=-1,
            maximum=1,
            steps=BUDGET_THRESHOLDS,
        ),
        12,
        10,
    )
    layout.add(
        table(
            "SLOs that need attention",
            [
                target(
                    f'{POLICY}{{{svc}, state=~"{AT_RISK}|{EXHAUSTED}"}} == 1', "", "A", instant=True
                ),
                target(
                    f'{STATUS}{{{svc}, status!="{conventions.Status.OK}"}} == 1',
                    "",
                    "B",
                    instant=True,
                ),
            ],
            description="Budget policy at-risk or exhausted, and SLOs whose data is missing, "
            "stale or failing to evaluate.",
        ),
        12,
        10,
    )
    layout.add(
        timeseries(
            "Error budget remaining",
            [target(f"{REMAINING}{{{svc}}}", "{{service}}/{{slo}}")],
            unit="percentunit",
            steps=BUDGET_THRESHOLDS,
            threshold_lines=True,
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            "Burn rate over 1h",
            [target(f'{BURN}{{{svc}, window="1h"}}', "{{service}}/{{slo}}")],
            description="1 spends the budget exactly over the period; per-SLO alert thresholds "
            "are on the service dashboards.",
        ),
        12,
        8,
    )
    layout.row("Failure modes: who spends the budget")
    layout.add(
        bar_gauge(
            "Budget spent by failure mode (summed over the SLOs it hits)",
            [
                target(
                    f"sort_desc(sum by (failure_mode, design_choice) ({MODE}{{{modes}}}))",
                    "{{failure_mode}} ({{design_choice}})",
                    instant=True,
                )
            ],
            unit="percentunit",
        ),
        12,
        10,
    )
    layout.add(
        bar_gauge(
            "Budget spent by design choice",
            [
                target(
                    f"sort_desc(sum by (design_choice) ({MODE}{{{modes}}}))",
                    "{{design_choice}}",
                    instant=True,
                )
            ],
            unit="percentunit",
        ),
        12,
        10,
    )
    layout.add(
        timeseries(
            "Failure mode spend per SLO",
            [target(f"{MODE}{{{modes}}} > 0", "{{failure_mode}} on {{service}}/{{slo}}")],
            unit="percentunit",
        ),
        12,
        9,
    )
    layout.add(
        bar_gauge(
            "Unattributed spend by SLO (causes no failure mode names)",
            [
                target(
                    f"sort_desc({UNATTRIBUTED}{{{svc}}} > 0)", "{{service}}/{{slo}}", instant=True
                )
            ],
            unit="percentunit",
        ),
        12,
        9,
    )
    self_monitoring(layout)
    variables = [
        datasource_variable(),
        query_variable("service", "Service", f"label_values({OBJECTIVE}, service)"),
        query_variable("design_choice", "Design choice", f"label_values({MODE}, design_choice)"),
        query_variable("failure_mode", "Failure mode", f"label_values({MODE}, failure_mode)"),
    ]
    services = len({d.service for d in definitions.slos})
    description = (
        f"Error budgets of {len(definitions.slos)} SLOs in {services} services, and the failure "
        "modes that spent them. Generated by `faultline dashboards export`."
    )
    return dashboard(
        OVERVIEW_UID, "Faultline: SLOs and failure modes", description, layout, variables, TAGS
    )


def _burn_thresholds(definitions: DefinitionSet, definition: SLODefinition) -> dict[str, Any]:
    """The SLO's alert tiers as threshold steps: a line at each tier's burn-rate factor."""
    policy = definitions.policy_for(definition)
    length = period_seconds(definition.spec.period)
    factors = sorted(
        {
            round(burn_rate_factor(tier.budget_fraction, length, tier.long_window), 4)
            for tier in effective_tiers(policy, definition.spec.alerting)
        },
        reverse=True,
    )
    steps: list[tuple[float | None, str]] = [(None, "green")]
    steps += [
        (factor, TIER_COLOURS[min(i, len(TIER_COLOURS) - 1)])
        for i, factor in reversed(list(enumerate(factors)))
    ]
    return thresholds(*steps)


def _slo_panels(layout: Layout, definitions: DefinitionSet, definition: SLODefinition) -> None:
    one = f'service="{definition.service}", slo="{definition.name}"'
    spec = definition.spec
    layout.row(f"{definition.name}: {spec.objective:g}% over {spec.period.describe()}")
    layout.add(
        stat(
            "Budget remaining",
            [target(f"{REMAINING}{{{one}}}", "remaining")],
            unit="percentunit",
            steps=BUDGET_THRESHOLDS,
            description=spec.description or "",
        ),
        4,
        8,
    )
    layout.add(
        timeseries(
            "Burn rate by window",
            [target(f'{BURN}{{{one}, window=~"{BURN_WINDOWS}"}}', "{{window}}")],
            steps=_burn_thresholds(definitions, definition),
            threshold_lines=True,
            description="Dashed lines: the alert tiers' burn-rate factors for this SLO's period "
            f"and its `{spec.alerting.policy}` policy.",
        ),
        7,
        8,
    )
    layout.add(
        timeseries(
            "Budget consumed by failure mode",
            [
                target(f"{MODE}{{{one}}}", "{{failure_mode}} ({{design_choice}})", "A"),
                target(f"{UNATTRIBUTED}{{{one}}}", "unattributed", "B"),
            ],
            unit="percentunit",
            stacked=True,
        ),
        7,
        8,
    )
    layout.add(
        timeseries(
            "SLI vs. objective",
            [
                target(f"{SLI}{{{one}}}", "SLI", "A"),
                target(f"{OBJECTIVE}{{{one}}}", "objective", "B"),
            ],
            unit="percentunit",
        ),
        6,
        8,
    )


def service_dashboard(definitions: DefinitionSet, service: str) -> dict[str, Any]:
    slos = [d for d in definitions.slos if d.service == service]
    layout = Layout()
    for definition in slos:
        _slo_panels(layout, definitions, definition)
    owner = next((d.owner for d in slos if d.owner), None)
    description = (
        f"SLOs of {service}"
        + (f" (owner: {owner})" if owner else "")
        + (". Generated by `faultline dashboards export` from the SLO definitions.")
    )
    return dashboard(
        f"faultline-svc-{service}"[:40],
        f"Faultline: {service}",
        description,
        layout,
        [datasource_variable()],
        [*TAGS, service],
    )


def services(definitions: DefinitionSet) -> Iterable[str]:
    return sorted({d.service for d in definitions.slos})


def all_dashboards(definitions: DefinitionSet) -> dict[str, dict[str, Any]]:
    """File name → dashboard JSON for everything `faultline dashboards export` writes."""
    out = {"faultline-overview.json": overview(definitions)}
    for service in services(definitions):
        out[f"faultline-service-{service}.json"] = service_dashboard(definitions, service)
    return out
