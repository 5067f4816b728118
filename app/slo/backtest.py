"""Scoring an alert policy against the budget incidents it should have caught.

The SRE Workbook judges an alerting policy by four criteria: precision (how many firings were
about something real), recall (how many incidents were caught), detection time (how long after
an incident began its alert fired) and reset time (how long after it ended the alert stopped).

A firing belongs to the incident its short window overlaps: a tier only fires while its short
window burns faster than its factor, so a firing whose short window saw no incident burned on
something too small to be an incident — a false positive. Firings of the "no data" rule are not
about budget and are not scored.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.slo.incidents import Incident


@dataclass(frozen=True)
class Firing:
    """One alert of one tier, from the slice end it fired at to the one it resolved at."""

    tier: str
    severity: str
    short_window: int
    fired_at: int
    resolved_at: int | None  # None: still firing at the end of the range


@dataclass(frozen=True)
class Detection:
    incident: int  # index in the range's incidents
    detection_seconds: int  # first firing after the incident began
    reset_seconds: int | None  # last resolution after it ended; None: still firing


@dataclass(frozen=True)
class TierScore:
    """The four criteria for one tier ("any" for all burn tiers of the SLO together)."""

    tier: str
    firings: int
    false_positives: int
    detections: tuple[Detection, ...]
    incidents: int
    firing_incident: tuple[int | None, ...] = field(default=())  # per firing: incident or None

    @property
    def detected(self) -> int:
        return len(self.detections)

    @property
    def missed(self) -> int:
        return self.incidents - self.detected

    @property
    def precision(self) -> float | None:
        """Share of firings that belonged to an incident; None when nothing fired."""
        return None if self.firings == 0 else (self.firings - self.false_positives) / self.firings

    @property
    def recall(self) -> float | None:
        """Share of incidents caught; None when there was no incident to catch."""
        return None if self.incidents == 0 else self.detected / self.incidents

    @property
    def median_detection_seconds(self) -> float | None:
        values = [d.detection_seconds for d in self.detections]
        return float(statistics.median(values)) if values else None

    @property
    def median_reset_seconds(self) -> float | None:
        values = [d.reset_seconds for d in self.detections if d.reset_seconds is not None]
        return float(statistics.median(values)) if values else None


def incident_of(firing: Firing, incidents: Sequence[Incident]) -> int | None:
    """The latest incident that the firing's short window overlaps, if any."""
    seen_from = firing.fired_at - firing.short_window
    overlapping = [
        index
        for index, incident in enumerate(incidents)
        if incident.start < firing.fired_at and seen_from < incident.end
    ]
    return max(overlapping, key=lambda index: incidents[index].start, default=None)


def score(tier: str, firings: Sequence[Firing], incidents: Sequence[Incident]) -> TierScore:
    """Score `firings` (of one tier, or of several for "any") against the range's incidents."""
    owners = [incident_of(firing, incidents) for firing in firings]
    detections = []
    for index, incident in enumerate(incidents):
        mine = [f for f, owner in zip(firings, owners, strict=True) if owner == index]
        if not mine:
            continue
        first = min(f.fired_at for f in mine)
        resolutions = [f.resolved_at for f in mine]
        reset = (
            None
            if any(at is None for at in resolutions)
            else max(at for at in resolutions if at is not None) - incident.end
        )
        detections.append(Detection(index, first - incident.start, reset))
    return TierScore(
        tier=tier,
        firings=len(firings),
        false_positives=sum(owner is None for owner in owners),
        detections=tuple(detections),
        incidents=len(incidents),
        firing_incident=tuple(owners),
    )


def score_tiers(
    tiers: Sequence[str], firings: Sequence[Firing], incidents: Sequence[Incident]
) -> list[TierScore]:
    """One score per tier (in the policy's order) and one for all of them together ("any")."""
    scores = [score(tier, [f for f in firings if f.tier == tier], incidents) for tier in tiers]
    return [*scores, score("any", firings, incidents)]
