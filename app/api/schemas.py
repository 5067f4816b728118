"""Response and request schemas of the API (the report itself is `app.slo.report.SLOReport`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.slo.report import SLOReport


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class SLOPage(Schema):
    """One page of SLOs with their current status (from the latest evaluation)."""

    items: list[SLOReport]
    total: int = Field(description="SLOs matching the filters, on all pages")
    limit: int
    offset: int


class HistoryPoint(Schema):
    t: str = Field(description="End of the bucket (RFC 3339); the bucket is (t − resolution, t]")
    total: float
    bad: float
    sli: float | None
    burn_rate: float | None
    consumed: dict[str, float] = Field(
        description="Budget consumed in this bucket per failure mode, relative to the range"
    )
    unattributed: float = Field(description="Budget consumed in this bucket by unnamed causes")
    no_data_slices: int
    cumulative_consumed: float = Field(description="Budget consumed from the range start to t")
    cumulative_remaining: float


class History(Schema):
    service: str
    slo: str
    start: str
    end: str
    resolution_seconds: int
    objective: float
    points: list[HistoryPoint]


GroupBy = Literal["failure_mode", "design_choice", "dependency"]


class SLOShare(Schema):
    slo: str
    consumed: float = Field(description="Share of that SLO's budget over the range")
    share: float = Field(description="Fraction of that SLO's bad events")


class AttributionGroup(Schema):
    group: str
    design_choice: str | None = None
    consumed: float = Field(description="Budget consumed, summed over the SLOs it hit")
    bad: float
    slos: list[SLOShare]
    introduces: str | None = None
    verification: str | None = None


class Attribution(Schema):
    start: str
    end: str
    group_by: GroupBy
    groups: list[AttributionGroup]
    unattributed: list[SLOShare]


class DesignChoiceOut(Schema):
    name: str
    title: str
    contains: str
    introduces: str
    verification: str
    buy_back: str | None
    typical_slis: list[str]


class Definition(Schema):
    service: str
    slo: str
    source: str
    line: int
    content_hash: str
    history_hash: str
    spec: dict[str, object]
    yaml: str


class ReloadResult(Schema):
    loaded: int
    added: list[str]
    changed_history: list[str]
    updated: list[str]
    removed: list[str]


class BackfillRequest(Schema):
    slos: list[str] | None = Field(default=None, description="SERVICE/NAME keys; default all")
    since: str | None = Field(default=None, description="e.g. 30d; or give start/end")
    start: str | None = None
    end: str | None = None


class Job(Schema):
    id: int
    slo: str
    start: str
    end: str
    done_through: str | None
    state: str
    error: str | None


class Jobs(Schema):
    jobs: list[Job]


class Health(Schema):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
