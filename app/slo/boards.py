"""Boards: named views over SLOs, written as YAML in `dashboards/` (for example one per team).

```yaml
title: Payments team
description: From the shopper's click to the money.
select:                      # every condition must hold; leave one out to allow anything
  labels: {team: payments}   # a value may also be a list: any of them matches
  services: [checkout, payments-gateway]
group_by: service            # service, owner, policy, or the name of a label (e.g. tier)
```

Pure: parsing works on text already read, and problems carry `file:line:col` like SLO files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from app.slo.conventions import PolicyState
from app.slo.definitions import SLODefinition
from app.slo.problems import Problem
from app.slo.spec import LABEL_NAME_PATTERN, NAME_PATTERN, Spec
from app.slo.yamlsource import parse_yaml, validate_model

BUILT_IN_GROUPS = ("service", "owner", "policy")


def _one_or_many(value: object) -> object:
    return (value,) if isinstance(value, str) else value


LabelValues = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]


class Selector(Spec):
    """Which SLOs a board shows: all conditions must hold."""

    labels: dict[Annotated[str, Field(pattern=LABEL_NAME_PATTERN)], LabelValues] = Field(
        default_factory=dict
    )
    services: tuple[str, ...] = ()

    def matches(self, definition: SLODefinition) -> bool:
        if self.services and definition.service not in self.services:
            return False
        labels = definition.labels
        return all(labels.get(name) in allowed for name, allowed in self.labels.items())


class BoardSpec(Spec):
    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    select: Selector = Selector()
    group_by: Annotated[str, Field(pattern=LABEL_NAME_PATTERN)] = "service"

    @field_validator("select", mode="before")
    @classmethod
    def _empty_select(cls, value: object) -> object:
        return {} if value is None else value


@dataclass(frozen=True)
class Board:
    name: str  # the file name without `.yaml`: the board's URL is /boards/<name>
    spec: BoardSpec
    source: str

    def select(self, definitions: Sequence[SLODefinition]) -> list[SLODefinition]:
        return [d for d in definitions if self.spec.select.matches(d)]


def group_name(group_by: str, definition: SLODefinition, policy: str | None = None) -> str:
    """The group an SLO falls in on a board; SLOs without the label share a `(no …)` group."""
    if group_by == "service":
        return definition.service
    if group_by == "owner":
        return definition.owner or "(no owner)"
    if group_by == "policy":
        return policy or "(not evaluated)"
    return definition.labels.get(group_by) or f"(no {group_by})"


POLICY_ORDER = tuple(reversed(PolicyState))  # worst first


def group_order(group_by: str, name: str) -> tuple[int, str]:
    """Policy groups worst first (what needs attention on top); others alphabetically."""
    if group_by == "policy" and name in POLICY_ORDER:
        return (POLICY_ORDER.index(name), name)
    return (len(POLICY_ORDER), name)


def parse_board(text: str, file: str, name: str) -> tuple[Board | None, list[Problem]]:
    """A board from one file's text; a bad file gives problems, never an exception."""
    problems: list[Problem] = []
    if not re.fullmatch(NAME_PATTERN, name):
        problems.append(
            Problem(file, 1, 1, f"file name {name!r} is not a board name (a-z, 0-9, . _ -)")
        )
    document, found = parse_yaml(text, file)
    problems.extend(found)
    if document is None:
        return None, problems
    spec, found = validate_model(document, BoardSpec)
    problems.extend(found)
    if spec is None or problems:
        return None, problems
    return Board(name=name, spec=spec, source=file), problems


def check_selects(board: Board, text: str, definitions: Sequence[SLODefinition]) -> list[Problem]:
    """A board that selects no loaded SLO is almost always a typo in a label or service."""
    if board.select(definitions):
        return []
    document, _ = parse_yaml(text, board.source)
    if document is None:
        return []
    return [document.problem(("select",), "selects no SLO of the loaded definitions", at_key=True)]
