"""A named scenario: the scenario, the story it tells and the facts a test may assert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.testbed.scenario import Scenario, ScenarioError


@dataclass(frozen=True)
class NamedScenario:
    scenario: Scenario
    story: str
    facts: Mapping[str, float] = field(default_factory=dict)


def clock(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def require(name: str, minutes: int, at_least: int) -> None:
    if minutes < at_least:
        raise ScenarioError(f"scenario {name!r} needs at least {at_least} minutes, got {minutes}")
