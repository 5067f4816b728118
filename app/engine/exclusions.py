"""Keeping the ledger's `excluded` flags in step with budget corrections.

New slices are marked as they are evaluated (`exclusion_marker`, used by ticks and backfills).
When corrections change, `apply_changes` writes the rows and their audit, re-marks the stored
slices the change covers and rebuilds their rollups, all in one transaction and under the locks
of the SLOs concerned, so a tick never writes a slice marked by the corrections of before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from sqlalchemy import Connection

from app.engine.evaluate import Exclusions
from app.slo.corrections import Correction, CorrectionChange, plan_declared
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.exclusions import excluded_slices
from app.slo.windows import Window
from app.store import registry
from app.store.corrections import (
    corrections_for,
    delete_correction,
    insert_correction,
    list_corrections,
    update_correction,
)
from app.store.exclusion_marks import remark_slices, stored_span
from app.store.store import Store

LockFor = Callable[[str], threading.Lock]


def exclusion_marker(store: Store, key: str, window: Window, slice_seconds: int) -> Exclusions:
    """Marks records of SLO `key` in `window` as its corrections say (all False without any)."""
    with store.read() as connection:
        corrections = [stored.correction for stored in corrections_for(connection, key)]
    return excluded_slices(corrections, key, window, slice_seconds)


@dataclass(frozen=True)
class AppliedChanges:
    changes: Sequence[CorrectionChange]
    corrections: list[Correction | None]  # per change: as stored (with id); None for a delete
    remarked: dict[str, int]  # SLO key → slices whose `excluded` flag flipped

    def remarked_definitions(self, definitions: DefinitionSet) -> list[SLODefinition]:
        """The SLOs whose ledger changed: their status snapshots need refreshing."""
        return [slo for slo in definitions.slos if self.remarked.get(slo.key)]


def _moved(changes: Sequence[CorrectionChange]) -> list[Correction]:
    """The corrections, before and after, of the changes that move excluded time."""
    return [
        correction
        for change in changes
        if change.moves_windows
        for correction in (change.before, change.after)
        if correction is not None
    ]


def affected_keys(changes: Sequence[CorrectionChange], definitions: DefinitionSet) -> list[str]:
    """Loaded SLOs whose excluded time the changes move, in lock order."""
    moved = _moved(changes)
    return sorted(
        {slo.key for slo in definitions.slos if any(c.applies_to(slo.key) for c in moved)}
    )


def apply_changes(
    store: Store,
    definitions: DefinitionSet,
    lock_for: LockFor,
    changes: Sequence[CorrectionChange],
    now: int,
) -> AppliedChanges:
    """Write the changes with their audit and re-mark the ledger, atomically."""
    keys = affected_keys(changes, definitions)
    with ExitStack() as held:
        for key in keys:  # sorted, so two writers never wait on each other in a circle
            held.enter_context(lock_for(key))
        with store.begin() as connection:
            written = [_write(connection, change, now) for change in changes]
            remarked = {key: _remark(connection, key, changes) for key in keys}
    return AppliedChanges(changes, written, remarked)


def sync_declared(
    store: Store, definitions: DefinitionSet, lock_for: LockFor, now: int
) -> AppliedChanges:
    """Make the stored corrections match the YAML declarations (on start and on reload); each
    change is audited as `file:<path>`."""
    with store.read() as connection:
        stored = [found.correction for found in list_corrections(connection)]
    changes = plan_declared(definitions.declared_corrections(), stored)
    if not changes:
        return AppliedChanges(changes, [], {})
    return apply_changes(store, definitions, lock_for, changes, now)


def _write(connection: Connection, change: CorrectionChange, now: int) -> Correction | None:
    if change.before is None:
        assert change.after is not None
        return insert_correction(connection, change.after, change.actor, now)
    if change.after is None:
        delete_correction(connection, change.before, change.actor, now)
        return None
    return update_correction(connection, change.before, change.after, change.actor, now)


def _remark(connection: Connection, key: str, changes: Sequence[CorrectionChange]) -> int:
    """Re-mark the stored slices of `key` that the changes may flip; how many flipped."""
    stored = registry.get_slo(connection, key)
    span = stored_span(connection, stored.id) if stored is not None else None
    if stored is None or span is None:
        return 0
    step = stored.slice_seconds
    touched = excluded_slices(_moved(changes), key, span, step)
    if not touched:
        return 0
    # Within the time the change touches, the corrections now in force decide every slice.
    window = Window(touched.ranges[0][0] - step, touched.ranges[-1][1])
    current = [found.correction for found in corrections_for(connection, key)]
    excluded = excluded_slices(current, key, window, step)
    for group in registry.list_groups(connection, stored.id):  # a grouped SLO's, alike
        remark_slices(connection, group.id, excluded, window)
    return remark_slices(connection, stored.id, excluded, window)
