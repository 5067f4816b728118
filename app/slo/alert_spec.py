"""Alert policies, budget-policy thresholds, incident rules and notification routes, as data.

What users write in `alerts/*.yaml`. Burn-rate factors are never written down: a tier says which
share of the budget may burn in its long window, and the factor follows from the SLO's period
(`budget_fraction × period / long_window`), so 28-day or 7-day SLOs scale correctly.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, field_validator, model_validator

from app.slo.durations import DurationError, parse_duration
from app.slo.spec import LABEL_NAME_PATTERN, NAME_PATTERN, Spec
from app.slo.windows import STANDARD_WINDOWS


def _seconds(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        if value.strip() in {"0", "0s"}:
            return 0
        try:
            return parse_duration(value)
        except DurationError as error:
            raise ValueError(str(error)) from None
    raise ValueError("expected a duration such as 5m, 1h or 3d")


Seconds = Annotated[int, BeforeValidator(_seconds)]


class Tier(Spec):
    """One multiwindow burn-rate condition: both windows burn faster than the derived factor."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    severity: Annotated[str, Field(pattern=NAME_PATTERN)]
    long_window: Seconds
    short_window: Seconds
    budget_fraction: Annotated[float, Field(gt=0, le=1)]
    for_seconds: Annotated[Seconds, Field(alias="for")] = 0

    @model_validator(mode="after")
    def _short_is_shorter(self) -> Self:
        if self.short_window <= 0 or self.long_window <= 0:
            raise ValueError("windows must be longer than zero")
        if self.short_window >= self.long_window:
            raise ValueError("`short_window` must be shorter than `long_window`")
        return self


def _default_tiers() -> tuple[Tier, ...]:
    """The SRE Workbook's tiers for a 30-day budget: 2% in 1h, 5% in 6h, 10% in 1d and in 3d."""
    rows = [
        ("page-fast", "page", 3600, 300, 0.02),
        ("page-slow", "page", 6 * 3600, 1800, 0.05),
        ("ticket-fast", "ticket", 86400, 2 * 3600, 0.10),
        ("ticket-slow", "ticket", 3 * 86400, 6 * 3600, 0.10),
    ]
    return tuple(
        Tier(name=name, severity=sev, long_window=long, short_window=short, budget_fraction=frac)
        for name, sev, long, short, frac in rows
    )


class AlertPolicy(Spec):
    """A set of tiers plus the guards that keep them honest."""

    description: str | None = None
    tiers: tuple[Tier, ...] = Field(default_factory=_default_tiers)
    # Occurrence SLOs need this many events in a tier's long window before it may fire, so one
    # failed request among three does not page anyone; alert evaluation raises it per tier so
    # that a single failure never crosses the threshold alone, and 0 turns the guard off.
    # Timeslice SLOs count slices instead.
    min_events: Annotated[int, Field(ge=0)] = 100
    # An SLI without series for this long raises a "no data" alert instead of a burn alert
    # (no data is not good data, and not bad data either); 0 turns the alert off.
    no_data_after: Seconds = 15 * 60
    no_data_severity: Annotated[str, Field(pattern=NAME_PATTERN)] = "ticket"

    @model_validator(mode="after")
    def _unique_tiers(self) -> Self:
        if not self.tiers:
            raise ValueError("a policy has at least one tier")
        names = [tier.name for tier in self.tiers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"tier names must be unique; repeated: {', '.join(repeated)}")
        return self


class PolicyStateRule(Spec):
    """Budget policy state thresholds: a state applies when either condition holds."""

    remaining_below: Annotated[float, Field(ge=0, le=1)]
    burn_rate_above: Annotated[float, Field(gt=0)] | None = None
    burn_window: Seconds = 86400

    @field_validator("burn_window")
    @classmethod
    def _standard_window(cls, value: int) -> int:
        allowed = {seconds: label for label, seconds in STANDARD_WINDOWS}
        if value not in allowed:
            raise ValueError(f"burn_window must be one of {', '.join(allowed.values())}")
        return value


class BudgetPolicy(Spec):
    """When an SLO is `watch` or `at-risk` (it is `exhausted` when nothing remains)."""

    watch: PolicyStateRule = PolicyStateRule(
        remaining_below=0.5, burn_rate_above=2.0, burn_window=86400
    )
    at_risk: Annotated[PolicyStateRule, Field(alias="at-risk")] = PolicyStateRule(
        remaining_below=0.25, burn_rate_above=6.0, burn_window=6 * 3600
    )


class IncidentRule(Spec):
    """A budget incident: a contiguous burn episode that spent at least `min_consumed`."""

    min_consumed: Annotated[float, Field(gt=0, le=1)] = 0.20
    burn_rate_above: Annotated[float, Field(gt=0)] = 1.0
    bucket: Seconds = 300
    merge_gap: Seconds = 1800


class Receiver(Spec):
    """Where notifications go: an Alertmanager (API v2) or a webhook."""

    type: Literal["alertmanager", "webhook"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    # The HMAC secret is never written in git: name the environment variable that holds it.
    secret_env: Annotated[str, Field(pattern=LABEL_NAME_PATTERN)] | None = None
    timeout: float = Field(default=5.0, gt=0, le=60)
    headers: dict[str, str] = Field(default_factory=dict)
    # Alertmanager resolves an alert once its `endsAt` has passed. Faultline re-sends firing
    # alerts this often, each time with `endsAt` three intervals ahead, so even two lost
    # re-sends in a row do not resolve a page that is still burning.
    resend_interval: Annotated[Seconds, Field(ge=5, le=120)] = 60


class RouteMatch(Spec):
    severity: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)


class Route(Spec):
    """Send matching notifications to `receiver`; later routes too unless `continue` is false."""

    receiver: str
    match: RouteMatch = RouteMatch()
    continue_: Annotated[bool, Field(alias="continue")] = True


class AlertsFile(Spec):
    """One file of `alerts/`; all files are merged, names must be unique across them."""

    policies: dict[Annotated[str, Field(pattern=NAME_PATTERN)], AlertPolicy] = Field(
        default_factory=dict
    )
    budget_policy: BudgetPolicy | None = None
    incidents: IncidentRule | None = None
    receivers: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Receiver] = Field(
        default_factory=dict
    )
    routes: tuple[Route, ...] = ()
    dashboard_url: str | None = None
