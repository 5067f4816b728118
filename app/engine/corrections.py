"""Budget corrections as commands and read models, for the API and the dashboards.

Creating or deleting a correction writes it, audits it and re-marks the ledger it covers in one
transaction (`app.engine.exclusions`), then refreshes the status snapshots of the SLOs whose
figures moved, so lists and reports show the corrected budget at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.exclusions import AppliedChanges, apply_changes
from app.engine.service import Engine
from app.slo.corrections import Correction, CorrectionChange
from app.slo.exclusions import excluded_slices
from app.slo.windows import Window
from app.store.corrections import (
    AuditEntry,
    StoredCorrection,
    audit_trail,
    corrections_for,
    find_correction,
    get_correction,
    list_corrections,
)


class CorrectionError(Exception):
    """A correction command that cannot be carried out; `status` is the HTTP analogue."""

    status = 422

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class UnknownScopeError(CorrectionError):
    status = 422


class CorrectionNotFoundError(CorrectionError):
    status = 404


class CorrectionConflictError(CorrectionError):
    status = 409


def _check_scope(engine: Engine, correction: Correction) -> None:
    if correction.slo is not None:
        if engine.definitions.get(correction.scope) is None:
            raise UnknownScopeError(f"no SLO {correction.scope!r} is loaded")
    elif not any(slo.service == correction.service for slo in engine.definitions.slos):
        raise UnknownScopeError(f"no service {correction.service!r} is loaded")


def _apply(engine: Engine, change: CorrectionChange) -> AppliedChanges:
    applied = apply_changes(
        engine.store, engine.definitions, engine.lock_for, [change], int(engine.clock())
    )
    engine.refresh_statuses(engine.clock(), applied.remarked_definitions(engine.definitions))
    return applied


def create_correction(engine: Engine, correction: Correction, actor: str) -> AppliedChanges:
    """Store a correction made through the API and recompute the ledger it covers."""
    _check_scope(engine, correction)
    with engine.store.read() as connection:
        existing = find_correction(connection, correction.scope, correction.name)
    if existing is not None:
        raise CorrectionConflictError(
            f"{correction.scope} already has a correction named {correction.name!r} "
            f"(id {existing.id}, from {existing.correction.source}); choose another name"
        )
    return _apply(engine, CorrectionChange(None, correction, actor))


def delete_correction(engine: Engine, correction_id: int, actor: str) -> AppliedChanges:
    """Delete a correction made through the API and recompute the ledger it covered."""
    with engine.store.read() as connection:
        stored = get_correction(connection, correction_id)
    if stored is None:
        raise CorrectionNotFoundError(f"no correction with id {correction_id}")
    if stored.correction.declared:
        path = stored.correction.source.removeprefix("file:")
        raise CorrectionConflictError(
            f"correction {correction_id} is declared in {path}; remove it there and reload"
        )
    return _apply(engine, CorrectionChange(stored.correction, None, actor))


def all_corrections(engine: Engine, *, service: str | None = None) -> list[StoredCorrection]:
    with engine.store.read() as connection:
        found = list_corrections(connection)
    return [item for item in found if service is None or item.correction.service == service]


def find(engine: Engine, correction_id: int) -> StoredCorrection:
    with engine.store.read() as connection:
        stored = get_correction(connection, correction_id)
    if stored is None:
        raise CorrectionNotFoundError(f"no correction with id {correction_id}")
    return stored


@dataclass(frozen=True)
class CorrectionInEffect:
    """A correction of one SLO with its occurrences in a window (for charts and lists)."""

    stored: StoredCorrection
    occurrences: list[Window]  # clipped to the window, oldest first
    excluded_slices: int  # slices of the window this correction alone excludes


def corrections_of(engine: Engine, key: str, window: Window) -> list[CorrectionInEffect]:
    """The corrections that apply to SLO `key` (its own and its service's), each with where
    it falls in `window`. The dashboards' SLO page shows these; the API serves the same."""
    definition = engine.definitions.get(key)
    if definition is None:
        raise KeyError(key)
    step = definition.spec.slice_seconds
    with engine.store.read() as connection:
        found = corrections_for(connection, key)
    shown = []
    for stored in found:
        intervals = stored.correction.spec.intervals(window.start, window.end)
        occurrences = [
            Window(max(start, window.start), min(end, window.end)) for start, end in intervals
        ]
        excluded = excluded_slices([stored.correction], key, window, step)
        shown.append(CorrectionInEffect(stored, occurrences, excluded.count))
    return shown


def audit(
    engine: Engine,
    *,
    correction_id: int | None = None,
    service: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Who changed which correction when, newest first."""
    with engine.store.read() as connection:
        return audit_trail(
            connection, correction_id=correction_id, service=service, limit=limit, offset=offset
        )
