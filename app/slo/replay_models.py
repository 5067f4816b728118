"""A replay's question and its answer, as data: the CLI, the API and the dashboard share them.

The answer holds, for each SLO, what happened (`actual`: the ledger as stored, the policy as
loaded) and, when a change is asked, what would have happened (`changed`), with the difference.
Every alert in it is replayed: judged from the ledger, never delivered.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.slo.spec_base import Spec
from app.slo.whatif import Change

MAX_SLOS = 500


class ReplayRequest(Spec):
    """Which SLOs, which range (`start`/`end`, or `since` back from `end`), and what to change."""

    slos: Annotated[tuple[str, ...], Field(max_length=MAX_SLOS)] = ()
    start: str | None = None
    end: str | None = None
    since: str | None = None
    change: Change = Change()


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class BudgetOut(Out):
    consumed: float
    remaining: float


class DetectionOut(Out):
    tier: str
    detection_seconds: int
    reset_seconds: int | None


class IncidentOut(Out):
    start: str
    end: str
    start_t: int
    end_t: int
    consumed: float
    top_failure_mode: str | None
    detected: bool
    detections: list[DetectionOut] = []


class AlertOut(Out):
    """One replayed transition. `incident`: index of the incident a firing belongs to, None for
    a false positive (and for resolutions and "no data" alerts)."""

    t: int
    at: str
    tier: str
    severity: str
    state: str
    summary: str
    replayed: bool = True
    incident: int | None = None
    long_burn: float | None = None
    short_burn: float | None = None
    factor: float | None = None


class ScoreOut(Out):
    """The SRE Workbook's four criteria for one tier, or for all burn tiers ("any")."""

    tier: str
    firings: int
    false_positives: int
    incidents: int
    detected: int
    missed: int
    precision: float | None
    recall: float | None
    median_detection_seconds: float | None
    median_reset_seconds: float | None


class OutcomeOut(Out):
    objective: float
    period: str
    budget: BudgetOut
    policy: str
    incidents: list[IncidentOut]
    alerts: list[AlertOut]
    scores: list[ScoreOut]


class DifferenceOut(Out):
    """changed − actual."""

    budget_consumed: float
    incidents: int
    firings: int
    pages: int
    false_positives: int
    missed: int


class SLOReplayOut(Out):
    key: str
    service: str
    slo: str
    slices: int  # stored slices judged in the range
    actual: OutcomeOut
    changed: OutcomeOut | None = None
    difference: DifferenceOut | None = None


class ReplayOut(Out):
    generated_at: str
    start: str
    end: str
    start_t: int
    end_t: int
    change: Change | None
    slos: list[SLOReplayOut]
