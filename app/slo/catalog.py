"""The design-choice catalog: what each mechanism contains, what it introduces, how to verify it.

It comes from the table in the failure-first background text and lives in
`slo_definitions/design_choices.yaml`, where users add their own choices.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.slo.spec import NAME_PATTERN, Spec


class DesignChoice(Spec):
    title: Annotated[str, Field(min_length=1)]
    contains: Annotated[str, Field(min_length=1)]
    introduces: Annotated[str, Field(min_length=1)]
    verification: Annotated[str, Field(min_length=1)]
    typical_slis: tuple[str, ...] = ()
    buy_back: str | None = None


class Catalog(Spec):
    """All known design choices by name (`queue`, `cache`, `read-replica`, …)."""

    design_choices: dict[Annotated[str, Field(pattern=NAME_PATTERN)], DesignChoice]

    def names(self) -> list[str]:
        return sorted(self.design_choices)

    def get(self, name: str) -> DesignChoice | None:
        return self.design_choices.get(name)
