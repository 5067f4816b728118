import pytest

from app.slo.alert_spec import BudgetPolicy, IncidentRule
from app.slo.conventions import PolicyState
from app.slo.incidents import detect_incidents
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus, WindowTotals
from app.slo.policy_state import policy_state

BUDGET = 0.001


def minute(t: int, total: float, bad: float, mode: str | None = None) -> SliceRecord:
    modes = {mode: ModeSlice(credited=bad)} if mode else {}
    unattributed = 0.0 if mode else bad
    return SliceRecord(
        t=t, status=SliceStatus.OK, total=total, bad=bad, unattributed=unattributed, modes=modes
    )


def day_with_burst(
    burst_start: int, burst_minutes: int, bad_per_minute: float
) -> list[SliceRecord]:
    records = []
    for index in range(1, 1441):
        t = index * 60
        in_burst = burst_start <= index < burst_start + burst_minutes
        records.append(
            minute(t, 1000, bad_per_minute if in_burst else 0.1, "timeout" if in_burst else None)
        )
    return records


def test_a_burst_becomes_one_incident_with_its_own_attribution() -> None:
    records = day_with_burst(600, 45, 20.0)  # 900 bad in 45 minutes
    period = WindowTotals.of(records)
    incidents = detect_incidents(records, period_totals=period, budget=BUDGET, rule=IncidentRule())
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.start <= 600 * 60 - 60 and incident.end >= (600 + 45) * 60 - 60
    assert incident.end - incident.start <= 50 * 60
    expected = 900 / (period.total * BUDGET)
    assert incident.consumed == pytest.approx(expected, rel=0.01)
    assert incident.top_failure_mode == "timeout"


def test_small_episodes_are_not_incidents() -> None:
    records = day_with_burst(600, 5, 20.0)  # 100 bad: 7% of a day's budget
    period = WindowTotals.of(records)
    assert detect_incidents(records, period_totals=period, budget=BUDGET, rule=IncidentRule()) == []


def test_a_short_lull_does_not_split_an_incident() -> None:
    records = day_with_burst(600, 30, 20.0)
    second = day_with_burst(640, 30, 20.0)
    merged = [a if a.bad > b.bad else b for a, b in zip(records, second, strict=True)]
    period = WindowTotals.of(merged)
    incidents = detect_incidents(merged, period_totals=period, budget=BUDGET, rule=IncidentRule())
    assert len(incidents) == 1


@pytest.mark.parametrize(
    ("remaining", "burn_1d", "burn_6h", "state"),
    [
        (0.9, 0.5, 0.5, PolicyState.HEALTHY),
        (0.45, 0.5, 0.5, PolicyState.WATCH),
        (0.9, 2.5, 0.5, PolicyState.WATCH),
        (0.2, 0.5, 0.5, PolicyState.AT_RISK),
        (0.9, 0.5, 7.0, PolicyState.AT_RISK),
        (0.0, 0.0, 0.0, PolicyState.EXHAUSTED),
        (-0.3, None, None, PolicyState.EXHAUSTED),
    ],
)
def test_policy_state(
    remaining: float, burn_1d: float | None, burn_6h: float | None, state: PolicyState
) -> None:
    burn = {86400: burn_1d, 21600: burn_6h}
    assert policy_state(remaining, burn, BudgetPolicy()) is state
