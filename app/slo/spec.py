"""The SLO spec: what users write in `slo_definitions/*.yaml`, as frozen pydantic models.

The models check shape and ranges; cross-field and cross-file rules (PromQL syntax, known design
choices, known alert policies, duplicate names) live in `app.slo.validate`, which reports them
with the same `file:line:col` positions.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.slo.correction_spec import CorrectionSpec
from app.slo.durations import format_duration
from app.slo.spec_base import (
    LABEL_NAME_PATTERN,
    NAME_PATTERN,
    DurationSeconds,
    Spec,
    duration_field,
    key_rule,
)

# Shared building blocks stay importable from here, where every spec module has found them.
__all__ = [
    "LABEL_NAME_PATTERN",
    "NAME_PATTERN",
    "SLI",
    "WINDOW_PLACEHOLDER",
    "AlertingRef",
    "Budgeting",
    "CalendarPeriod",
    "CalendarUnit",
    "CorrectionSpec",
    "DurationSeconds",
    "EventsSLI",
    "FailureMode",
    "LatencySLI",
    "Period",
    "RollingPeriod",
    "SLOSpec",
    "ServiceFile",
    "Spec",
    "ThresholdOp",
    "ThresholdSLI",
    "slo_key",
    "split_slo_key",
]

WINDOW_PLACEHOLDER = "{{window}}"
# Grouped SLOs: groups per SLO unless it says otherwise, and the most any SLO may ask for (each
# group is a ledger of its own, written on every tick).
DEFAULT_MAX_GROUPS = 500
MAX_GROUPS_CAP = 5000


class Budgeting(StrEnum):
    OCCURRENCES = "occurrences"
    TIMESLICES = "timeslices"


class CalendarUnit(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class CalendarPeriod(Spec):
    """A calendar period: the budget resets at the start of every week, month or quarter."""

    calendar: CalendarUnit
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Berlin"
            ) from None
        return value

    def describe(self) -> str:
        return f"{self.calendar.value} ({self.timezone})"


class RollingPeriod(Spec):
    """A rolling period: the budget always covers the last `seconds`."""

    seconds: int

    def describe(self) -> str:
        return format_duration(self.seconds)


def _period_kind(value: object) -> str:
    # A stored spec writes a rolling period as {"seconds": N}; people write "30d".
    if isinstance(value, CalendarPeriod) or (isinstance(value, dict) and "seconds" not in value):
        return "CalendarPeriod"
    return "RollingPeriod"


# A rolling period is written as a duration ("30d"), a calendar one as a mapping; the
# discriminator keeps pydantic from reporting both readings of a broken value.
Period = Annotated[
    Annotated[RollingPeriod, Tag("RollingPeriod")]
    | Annotated[CalendarPeriod, Tag("CalendarPeriod")],
    Discriminator(_period_kind),
]


class EventsSLI(Spec):
    """Counters as PromQL with a `{{window}}` placeholder: `total` and `bad` (or `good`).

    `unit` says whether the queries return per-second rates (`rate(...)`, Sloth style) or counts
    (`increase(...)`); `auto` reads it from the query.
    """

    total: str
    bad: str | None = None
    good: str | None = None
    unit: Literal["auto", "rate", "count"] = "auto"

    @model_validator(mode="after")
    def _not_both(self) -> Self:
        if self.bad is not None and self.good is not None:
            raise ValueError("give either `bad` or `good`, not both")
        return self


class LatencySLI(Spec):
    """Sugar for an events SLI on a Prometheus histogram: good = requests at or under `le`."""

    histogram: Annotated[str, Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    selector: str = ""
    le: float = Field(gt=0)

    @field_validator("histogram")
    @classmethod
    def _strip_suffix(cls, value: str) -> str:
        for suffix in ("_bucket", "_count", "_sum"):
            if value.endswith(suffix):
                return value.removesuffix(suffix)
        return value

    @field_validator("selector")
    @classmethod
    def _braced(cls, value: str) -> str:
        if value and not (value.startswith("{") and value.endswith("}")):
            raise ValueError('a selector is written in braces, e.g. {service="checkout"}')
        return value


class ThresholdOp(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="


class ThresholdSLI(Spec):
    """A gauge condition, judged at the end of every slice: the slice is good when it holds."""

    query: str
    op: ThresholdOp
    value: float


class SLI(Spec):
    """Exactly one SLI kind."""

    events: EventsSLI | None = None
    latency: LatencySLI | None = None
    threshold: ThresholdSLI | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        kinds = [kind for kind in ("events", "latency", "threshold") if getattr(self, kind)]
        if len(kinds) != 1:
            raise ValueError(
                "an sli has exactly one of `events`, `latency` or `threshold`"
                + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        return self

    @property
    def kind(self) -> Literal["events", "latency", "threshold"]:
        if self.events is not None:
            return "events"
        if self.latency is not None:
            return "latency"
        return "threshold"


class FailureMode(Spec):
    """A named way the SLO can be violated, tagged with the design choice whose failure it is."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    design_choice: Annotated[str, Field(min_length=1)]
    dependency: str | None = None
    description: str | None = None
    bad: str | None = None
    when: str | None = None

    @model_validator(mode="after")
    def _has_signal(self) -> Self:
        if self.bad is None and self.when is None:
            raise ValueError("a failure mode needs a signal: `bad`, `when`, or both")
        return self


class AlertingRef(Spec):
    """Which alert policy applies, with optional per-SLO overrides."""

    policy: str = "default"
    min_events: Annotated[int, Field(ge=0)] | None = None
    disabled_tiers: tuple[str, ...] = ()
    for_seconds: Annotated[int | None, Field(alias="for", ge=0)] = None

    @field_validator("for_seconds", mode="before")
    @classmethod
    def _for_duration(cls, value: object) -> object:
        if value is None or value in ("0", "0s", 0):
            return value if value is None else 0
        return duration_field(value)


class SLOSpec(Spec):
    """One SLO: an objective for an SLI over a period, with the failure modes that can spend it."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    description: str | None = None
    invariant: str | None = None
    objective: Annotated[float, Field(gt=0, lt=100)]
    period: Period = RollingPeriod(seconds=30 * 86400)
    budgeting: Budgeting | None = None
    slice_seconds: Annotated[DurationSeconds, Field(alias="slice")] = 60
    slice_target: Annotated[float, Field(gt=0, le=100)] | None = None
    # How often the SLI's series are scraped; learned from the data when not given.
    scrape_interval: DurationSeconds | None = None
    labels: dict[Annotated[str, Field(pattern=LABEL_NAME_PATTERN)], str] = Field(
        default_factory=dict
    )
    sli: SLI | None = None
    failure_modes: tuple[FailureMode, ...] = ()
    alerting: AlertingRef = AlertingRef()
    # Budget corrections of this SLO alone; a service file may also give some for all its SLOs.
    corrections: tuple[CorrectionSpec, ...] = ()
    # A ledger per value of these labels (docs/spec.md, "Grouped SLOs"); groups beyond
    # `max_groups` are counted together in one "other" group.
    # (None when not given, so an ungrouped SLO's stored and shown spec stays as it was.)
    group_by: tuple[Annotated[str, Field(pattern=LABEL_NAME_PATTERN)], ...] | None = None
    max_groups: Annotated[int, Field(ge=1, le=MAX_GROUPS_CAP)] | None = None

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: object) -> object:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return RollingPeriod(seconds=duration_field(value))
        return value

    # The grouping rules about one key are field validators, so validation points at that key
    # (`group_by` is validated before `max_groups`, in the order of the fields).
    @field_validator("group_by")
    @classmethod
    def _labels_once(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        repeated = sorted({name for name in value or () if (value or ()).count(name) > 1})
        if repeated:
            raise key_rule(f"`group_by` names each label once; repeated: {', '.join(repeated)}")
        return value

    @field_validator("max_groups")
    @classmethod
    def _bounds_groups(cls, value: int | None, info: ValidationInfo) -> int | None:
        # An invalid `group_by` is absent from `info.data`: its own error is the one to report.
        if value is not None and "group_by" in info.data and not info.data["group_by"]:
            raise key_rule("`max_groups` bounds the groups of `group_by`, which is not given")
        return value

    @field_validator("alerting", mode="before")
    @classmethod
    def _alerting(cls, value: object) -> object:
        if isinstance(value, str):
            return {"policy": value}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.slice_seconds % 60 != 0 and 60 % self.slice_seconds != 0:
            raise ValueError("`slice` must divide a minute or be whole minutes (e.g. 15s, 1m, 5m)")
        if self.sli is None:
            raise ValueError(
                "an SLO needs an `sli`; to count bad events from failure modes only, give "
                "`sli: {events: {total: ...}}` without `bad`"
            )
        kind = self.sli.kind
        budgeting = self.budgeting or (
            Budgeting.TIMESLICES if kind == "threshold" else Budgeting.OCCURRENCES
        )
        if kind == "threshold" and budgeting is Budgeting.OCCURRENCES:
            raise ValueError("a threshold SLI is budgeted in `timeslices`, not `occurrences`")
        if kind != "threshold" and budgeting is Budgeting.TIMESLICES and self.slice_target is None:
            raise ValueError(
                "timeslice budgeting of an events or latency SLI needs `slice_target` (percent of "
                "good events that makes a slice good, e.g. 95)"
            )
        if kind == "events" and self.sli.events is not None:
            events = self.sli.events
            if (
                events.bad is None
                and events.good is None
                and not any(mode.bad for mode in self.failure_modes)
            ):
                raise ValueError(
                    "an events SLI needs `bad` or `good`, unless failure modes give `bad` counts"
                )
        names = [mode.name for mode in self.failure_modes]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(
                f"failure mode names must be unique; repeated: {', '.join(duplicates)}"
            )
        if budgeting is not self.budgeting:
            return self.model_copy(update={"budgeting": budgeting})
        return self

    @property
    def budget(self) -> float:
        """The error budget as a fraction: 1 − objective."""
        return 1.0 - self.objective / 100.0

    @property
    def group_limit(self) -> int:
        """How many groups get a ledger of their own; the rest share the "other" group."""
        return self.max_groups or DEFAULT_MAX_GROUPS

    @property
    def effective_budgeting(self) -> Budgeting:
        assert self.budgeting is not None  # set by the model validator
        return self.budgeting


class ServiceFile(Spec):
    """One file of `slo_definitions/`: a service and its SLOs."""

    service: Annotated[str, Field(pattern=NAME_PATTERN)]
    owner: str | None = None
    description: str | None = None
    labels: dict[Annotated[str, Field(pattern=LABEL_NAME_PATTERN)], str] = Field(
        default_factory=dict
    )
    corrections: tuple[CorrectionSpec, ...] = ()  # for every SLO of the service
    slos: tuple[SLOSpec, ...]

    @field_validator("slos")
    @classmethod
    def _not_empty(cls, value: tuple[SLOSpec, ...]) -> tuple[SLOSpec, ...]:
        if not value:
            raise ValueError("a service file lists at least one SLO")
        return value


def slo_key(service: str, slo: str) -> str:
    """The stable identity of an SLO across files and restarts."""
    return f"{service}/{slo}"


_KEY = re.compile(r"^([^/]+)/([^/]+)$")


def split_slo_key(key: str) -> tuple[str, str]:
    match = _KEY.match(key)
    if not match:
        raise ValueError(f"{key!r} is not SERVICE/SLO")
    return match.group(1), match.group(2)
