"""The SLO registry: which definitions are loaded, their hashes, checkpoints and last errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, case, delete, or_, select, update

from app.slo.definitions import SLODefinition
from app.slo.groups import group_definition
from app.slo.sampling import IntervalOrigin, Sampling
from app.slo.spec import SLOSpec
from app.store.groups import FOLLOWED, reset_groups
from app.store.ledger import delete_history
from app.store.locks import lock_registry
from app.store.tables import backfill_jobs, failure_modes, slos, statuses


@dataclass(frozen=True)
class StoredSLO:
    id: int
    key: str
    service: str
    name: str
    active: bool
    content_hash: str
    history_hash: str
    slice_seconds: int
    history_start: int | None
    checkpoint: int | None
    last_error: str | None
    last_error_kind: str | None
    last_error_at: int | None
    last_success_at: int | None
    definition: dict[str, Any]
    declared_hash: str | None = None  # as declared in its files (None: registered before 0008)
    definitions_generation: int | None = None  # the definitions generation that registered it
    parent_id: int | None = None  # a group's ledger: the grouped SLO's row (`app.store.groups`)
    group_labels: dict[str, str] | None = None
    history_rewrites: int = 0  # see `note_rewrite`


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    history_reset: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)  # "create checkout/freeze", …


def _stored(row: Any) -> StoredSLO:
    return StoredSLO(
        id=row.id,
        key=row.key,
        service=row.service,
        name=row.name,
        active=row.active,
        content_hash=row.content_hash,
        history_hash=row.history_hash,
        slice_seconds=row.slice_seconds,
        history_start=row.history_start,
        checkpoint=row.checkpoint,
        last_error=row.last_error,
        last_error_kind=row.last_error_kind,
        last_error_at=row.last_error_at,
        last_success_at=row.last_success_at,
        definition=json.loads(row.definition),
        declared_hash=row.declared_hash,
        definitions_generation=row.definitions_generation,
        parent_id=row.parent_id,
        group_labels=None if row.group_labels is None else json.loads(row.group_labels),
        history_rewrites=row.history_rewrites,
    )


def definition_json(definition: SLODefinition) -> str:
    return json.dumps(
        {
            "service": definition.service,
            "owner": definition.owner,
            "labels": definition.labels,
            "source": definition.source,
            "line": definition.line,
            "text": definition.text,
            "spec": definition.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            "sampling": _sampling_json(definition.sampling),
        },
        sort_keys=True,
    )


def _sampling_json(sampling: Sampling | None) -> dict[str, object] | None:
    if sampling is None:
        return None
    return {
        "configured_slice": sampling.configured_slice,
        "interval": sampling.interval,
        "origin": sampling.origin.value,
    }


def _sampling_of(data: dict[str, Any] | None) -> Sampling | None:
    if not data:
        return None
    origin = IntervalOrigin(data["origin"])
    return Sampling(int(data["configured_slice"]), data.get("interval"), origin)


def sync_definitions(
    connection: Connection,
    definitions: Sequence[SLODefinition],
    now: int,
    generation: int | None = None,
) -> SyncResult:
    """Make the registry match the loaded definitions.

    A changed query (history hash) throws that SLO's ledger away so it is recomputed from
    Prometheus; other edits only update the stored definition. SLOs no longer defined become
    inactive and keep their history.
    """
    result = SyncResult()
    lock_registry(connection)  # processes starting together register one after the other
    existing = {
        row.key: row for row in connection.execute(select(slos).where(slos.c.parent_id.is_(None)))
    }
    for definition in definitions:
        values = {
            "key": definition.key,
            "service": definition.service,
            "name": definition.name,
            "active": True,
            "definition": definition_json(definition),
            "content_hash": definition.content_hash,
            "history_hash": definition.history_hash,
            "source_file": definition.source,
            "slice_seconds": definition.spec.slice_seconds,
            "updated_at": now,
            "declared_hash": definition.declared_hash,
            "definitions_generation": generation,
        }
        row = existing.get(definition.key)
        if row is None:
            inserted = connection.execute(slos.insert().values(**values)).inserted_primary_key
            assert inserted is not None
            slo_id = int(inserted[0])
            result.added.append(definition.key)
        else:
            slo_id = row.id
            if row.history_hash != definition.history_hash:
                delete_history(connection, slo_id)
                connection.execute(delete(statuses).where(statuses.c.slo_id == slo_id))
                connection.execute(delete(backfill_jobs).where(backfill_jobs.c.slo_id == slo_id))
                reset_groups(connection, slo_id)
                values |= {
                    "checkpoint": None,
                    "history_start": None,
                    "last_error": None,
                    "last_error_kind": None,
                    "last_error_at": None,
                }
                result.history_reset.append(definition.key)
            elif row.content_hash != definition.content_hash or not row.active:
                result.updated.append(definition.key)
            elif row.declared_hash != definition.declared_hash:
                pass  # registered before declared hashes were kept: record it
            else:
                continue
            connection.execute(update(slos).where(slos.c.id == slo_id).values(**values))
            _update_groups(connection, slo_id, values)
        _replace_modes(connection, slo_id, definition)
    loaded = {definition.key for definition in definitions}
    for key, row in existing.items():
        if key not in loaded and row.active:
            connection.execute(
                update(slos)
                .where(or_(slos.c.id == row.id, slos.c.parent_id == row.id))
                .values(active=False, updated_at=now)
            )
            result.deactivated.append(key)
    return result


def _update_groups(connection: Connection, slo_id: int, values: dict[str, Any]) -> None:
    """A grouped SLO's groups follow its edits (their ledgers were reset with its own, if at
    all: `reset_groups`)."""
    followed = {name: values[name] for name in FOLLOWED if name in values}
    connection.execute(update(slos).where(slos.c.parent_id == slo_id).values(**followed))


def _replace_modes(connection: Connection, slo_id: int, definition: SLODefinition) -> None:
    connection.execute(delete(failure_modes).where(failure_modes.c.slo_id == slo_id))
    rows = [
        {
            "slo_id": slo_id,
            "name": mode.name,
            "design_choice": mode.design_choice,
            "dependency": mode.dependency,
        }
        for mode in definition.spec.failure_modes
    ]
    if rows:
        connection.execute(failure_modes.insert(), rows)


def list_slos(
    connection: Connection, *, active_only: bool = True, keys: Sequence[str] | None = None
) -> list[StoredSLO]:
    """The stored SLOs in key order, without the ledgers of groups (`app.store.groups`); only
    those of `keys` when given (each row's stored definition is parsed: a report of one SLO
    need not parse thousands)."""
    query = select(slos).where(slos.c.parent_id.is_(None)).order_by(slos.c.key)
    if active_only:
        query = query.where(slos.c.active.is_(True))
    if keys is not None:
        query = query.where(slos.c.key.in_(sorted(set(keys))))
    return [_stored(row) for row in connection.execute(query)]


def list_groups(connection: Connection, parent_id: int) -> list[StoredSLO]:
    """The ledgers of a grouped SLO's groups (`app.store.groups`), by key."""
    query = select(slos).where(slos.c.parent_id == parent_id).order_by(slos.c.key)
    return [_stored(row) for row in connection.execute(query)]


def declared_hashes(connection: Connection) -> dict[str, tuple[int, str | None]]:
    """Each active SLO's id and declared hash, by key: what lease renewals need, without
    reading and parsing every stored definition (thousands, every few seconds)."""
    rows = connection.execute(
        select(slos.c.key, slos.c.id, slos.c.declared_hash).where(
            slos.c.active.is_(True), slos.c.parent_id.is_(None)
        )
    )
    return {row.key: (row.id, row.declared_hash) for row in rows}


def get_slo(connection: Connection, key: str) -> StoredSLO | None:
    row = connection.execute(select(slos).where(slos.c.key == key)).first()
    return None if row is None else _stored(row)


def advance_checkpoint(
    connection: Connection, slo_id: int, first: int, last: int, slice_seconds: int
) -> None:
    """Record that slices `first..last` are evaluated.

    The checkpoint only moves forward, and only over contiguous history: a chunk that starts
    after a hole does not pretend the hole was filled.
    """
    # One statement: the checkpoint moves only over contiguous history, the start only back.
    contiguous = or_(
        slos.c.checkpoint.is_(None),
        and_(slos.c.checkpoint >= first - slice_seconds, slos.c.checkpoint < last),
    )
    earlier = or_(slos.c.history_start.is_(None), slos.c.history_start > first)
    connection.execute(
        update(slos)
        .where(slos.c.id == slo_id)
        .values(
            checkpoint=case((contiguous, last), else_=slos.c.checkpoint),
            history_start=case((earlier, first), else_=slos.c.history_start),
        )
    )


def definition_of(stored: StoredSLO) -> SLODefinition:
    """The definition the stored ledger was computed with (a group's: under its own key, with
    its labels)."""
    data = stored.definition
    definition = SLODefinition(
        service=data["service"],
        spec=SLOSpec.model_validate(data["spec"]),
        owner=data.get("owner"),
        service_labels=data.get("labels", {}),
        source=data.get("source", "<store>"),
        line=data.get("line", 1),
        text=data.get("text", ""),
        sampling=_sampling_of(data.get("sampling")),
    )
    if stored.group_labels is not None:
        return group_definition(definition, stored.group_labels)
    return definition


def set_checkpoint(connection: Connection, slo_id: int, checkpoint: int | None) -> None:
    """Put the checkpoint anywhere (tools, tests): sums kept for the SLO's history are dropped,
    as they are only valid while it moves forward (`app.store.hour_sums`)."""
    connection.execute(
        update(slos)
        .where(slos.c.id == slo_id)
        .values(checkpoint=checkpoint, history_rewrites=slos.c.history_rewrites + 1)
    )


def record_error(connection: Connection, slo_id: int, kind: str, message: str, now: int) -> None:
    connection.execute(
        update(slos)
        .where(slos.c.id == slo_id)
        .values(last_error=message, last_error_kind=kind, last_error_at=now)
    )


def record_success(connection: Connection, slo_id: int, now: int) -> None:
    connection.execute(
        update(slos)
        .where(slos.c.id == slo_id)
        .values(last_error=None, last_error_kind=None, last_error_at=None, last_success_at=now)
    )
