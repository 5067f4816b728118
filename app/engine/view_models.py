"""Shapes of the ledger read models that both the API and the dashboards show.

The report itself is `app.slo.report.SLOReport`; these are the time series and the attribution
rankings. The API serves them as they are, so a chart and a JSON answer cannot disagree.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GroupBy = Literal["failure_mode", "design_choice", "dependency"]


class ViewModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class HistoryPoint(ViewModel):
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


class History(ViewModel):
    service: str
    slo: str
    start: str
    end: str
    resolution_seconds: int
    objective: float
    points: list[HistoryPoint]


class SLOShare(ViewModel):
    slo: str
    consumed: float = Field(description="Share of that SLO's budget over the range")
    share: float = Field(description="Fraction of that SLO's bad events")
    bad: float | None = Field(
        default=None,
        description="That SLO's bad events it counts (bad slices for a timeslice SLO)",
    )


class AttributionGroup(ViewModel):
    group: str
    design_choice: str | None = None
    consumed: float = Field(description="Budget consumed, summed over the SLOs it hit")
    bad: float
    slos: list[SLOShare]
    introduces: str | None = None
    verification: str | None = None


class Attribution(ViewModel):
    start: str
    end: str
    group_by: GroupBy
    groups: list[AttributionGroup]
    unattributed: list[SLOShare]
