"""Budget corrections in scope: which SLOs a correction applies to, and where it came from.

A correction applies to one SLO (`checkout/checkout-success`) or to every SLO of a service
(`checkout`), including SLOs the service gains later. Its identity is its scope and name, so a
correction declared in YAML keeps its identity, and its audit trail, across edits and moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.slo.correction_spec import CorrectionSpec
from app.slo.spec import split_slo_key

API_SOURCE = "api"
FILE_SOURCE_PREFIX = "file:"


def file_source(path: str) -> str:
    """The source (and audit actor) of corrections declared in the YAML file at `path`."""
    return f"{FILE_SOURCE_PREFIX}{path}"


def scope_of(service: str, slo: str | None) -> str:
    return service if slo is None else f"{service}/{slo}"


def parse_scope(scope: str) -> tuple[str, str | None]:
    """`checkout/checkout-success` → (checkout, checkout-success); `checkout` → (checkout, None)."""
    if "/" not in scope:
        return scope, None
    return split_slo_key(scope)


@dataclass(frozen=True)
class Correction:
    """A correction with its scope, its source (`api` or `file:<path>`) and, once stored, id."""

    spec: CorrectionSpec
    service: str
    slo: str | None = None  # None: every SLO of the service
    source: str = API_SOURCE
    id: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def scope(self) -> str:
        return scope_of(self.service, self.slo)

    @property
    def identity(self) -> tuple[str, str]:
        return self.scope, self.spec.name

    @property
    def declared(self) -> bool:
        """Declared in a YAML file (and so changed there, not through the API)."""
        return self.source.startswith(FILE_SOURCE_PREFIX)

    def applies_to(self, key: str) -> bool:
        service, slo = split_slo_key(key)
        return self.service == service and (self.slo is None or self.slo == slo)

    def same_windows(self, other: Correction) -> bool:
        """Whether both exclude exactly the same time (the ledger need not be re-marked)."""
        fields = ("start", "end", "rrule", "duration")
        return self.identity == other.identity and all(
            getattr(self.spec, name) == getattr(other.spec, name) for name in fields
        )


@dataclass(frozen=True)
class CorrectionChange:
    """One create (`before` None), update, or delete (`after` None), and who makes it."""

    before: Correction | None
    after: Correction | None
    actor: str

    @property
    def action(self) -> Literal["create", "update", "delete"]:
        if self.before is None:
            return "create"
        return "delete" if self.after is None else "update"

    @property
    def subject(self) -> Correction:
        subject = self.after or self.before
        assert subject is not None
        return subject

    def describe(self) -> str:
        """`create checkout/freeze`: what happened to which correction."""
        return f"{self.action} {self.subject.scope}/{self.subject.name}"

    @property
    def moves_windows(self) -> bool:
        """Whether the change alters which time is excluded (else the ledger stays as it is)."""
        if self.before is None or self.after is None:
            return True
        return not self.before.same_windows(self.after)


def plan_declared(
    declared: Sequence[Correction], stored: Sequence[Correction]
) -> list[CorrectionChange]:
    """The changes that make the stored corrections match the YAML declarations.

    Identity is (scope, name). A declaration creates or updates its correction (taking over one
    made through the API under the same name: the files in git are the source of truth); a
    stored correction from a file that no file declares any more is deleted. Corrections made
    through the API and not declared stay.
    """
    existing = {correction.identity: correction for correction in stored}
    changes = []
    for correction in declared:
        before = existing.get(correction.identity)
        if before is None:
            changes.append(CorrectionChange(None, correction, correction.source))
        elif before.spec != correction.spec or before.source != correction.source:
            changes.append(CorrectionChange(before, correction, correction.source))
    wanted = {correction.identity for correction in declared}
    changes.extend(
        CorrectionChange(correction, None, correction.source)
        for correction in stored
        if correction.declared and correction.identity not in wanted
    )
    return changes
