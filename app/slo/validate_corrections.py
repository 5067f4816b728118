"""Validation of budget corrections in service files, with `file:line:col` like every field.

An SLO's own corrections are part of its spec (a broken one keeps that SLO from loading, as any
broken field does). Service-wide corrections are checked one by one: a broken one is reported
and left out without taking the service's SLOs down with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction, file_source
from app.slo.problems import Problem
from app.slo.yamlsource import YamlDocument, validate_model

Loc = tuple[int | str, ...]


def load_service_corrections(
    document: YamlDocument, service: str, items: Sequence[Any]
) -> tuple[list[Correction], list[Problem]]:
    """The valid service-wide corrections of a service file, and every problem found."""
    corrections: list[Correction] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        spec, found = validate_model(
            document, CorrectionSpec, data=item, prefix=("corrections", index)
        )
        problems.extend(found)
        if spec is not None:
            corrections.append(Correction(spec, service, source=file_source(document.file)))
    problems.extend(
        document.problem(("corrections", *loc), message)
        for loc, message in duplicate_names([correction.spec for correction in corrections])
    )
    return corrections, problems


def duplicate_names(corrections: Sequence[CorrectionSpec]) -> list[tuple[Loc, str]]:
    """Each reuse of a correction name within one scope, at the reusing item's `name`."""
    first: dict[str, int] = {}
    found: list[tuple[Loc, str]] = []
    for index, correction in enumerate(corrections):
        if correction.name in first:
            found.append(
                (
                    (index, "name"),
                    f"correction name {correction.name!r} is used twice in this scope "
                    f"(first at corrections[{first[correction.name]}])",
                )
            )
        first.setdefault(correction.name, index)
    return found
