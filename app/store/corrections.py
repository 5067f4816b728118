"""Stored budget corrections and their audit trail.

Every write goes through `insert_correction`, `update_correction` or `delete_correction`, which
record the change in `correction_audit` (who, when, before, after) in the same transaction: a
correction never changes without a trace.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, delete, desc, or_, select, update

from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction, parse_scope
from app.slo.spec import split_slo_key
from app.store.tables import correction_audit, corrections

Action = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class StoredCorrection:
    correction: Correction  # with its id
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str

    @property
    def id(self) -> int:
        assert self.correction.id is not None
        return self.correction.id


@dataclass(frozen=True)
class AuditEntry:
    id: int
    correction_id: int
    action: Action
    actor: str
    at: int
    scope: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def correction_document(correction: Correction) -> dict[str, Any]:
    """The correction as the audit keeps it (and as the API shows it): JSON-ready."""
    return {
        "scope": correction.scope,
        "source": correction.source,
        **correction.spec.model_dump(mode="json", exclude_none=True),
    }


def _values(correction: Correction) -> dict[str, Any]:
    spec = correction.spec
    return {
        "scope": correction.scope,
        "name": spec.name,
        "category": spec.category.value,
        "note": spec.note,
        "start": spec.start,
        "end": spec.end,
        "rrule": spec.rrule,
        "duration": spec.duration,
        "source": correction.source,
    }


def _stored(row: Any) -> StoredCorrection:
    values = row._mapping
    service, slo = parse_scope(values["scope"])
    fields = ("name", "category", "note", "start", "end", "rrule", "duration")
    spec = CorrectionSpec.model_validate(
        {name: values[name] for name in fields if values[name] is not None}
    )
    return StoredCorrection(
        correction=Correction(spec, service, slo, source=values["source"], id=values["id"]),
        created_at=values["created_at"],
        created_by=values["created_by"],
        updated_at=values["updated_at"],
        updated_by=values["updated_by"],
    )


def list_corrections(
    connection: Connection, scopes: Sequence[str] | None = None
) -> list[StoredCorrection]:
    """All corrections, or those whose scope is one of `scopes`; by scope and name."""
    query = select(corrections).order_by(corrections.c.scope, corrections.c.name)
    if scopes is not None:
        query = query.where(corrections.c.scope.in_(list(scopes)))
    return [_stored(row) for row in connection.execute(query)]


def corrections_for(connection: Connection, key: str) -> list[StoredCorrection]:
    """The corrections that apply to SLO `key`: its own and its service's."""
    service, _ = split_slo_key(key)
    return list_corrections(connection, [key, service])


def get_correction(connection: Connection, correction_id: int) -> StoredCorrection | None:
    row = connection.execute(select(corrections).where(corrections.c.id == correction_id)).first()
    return None if row is None else _stored(row)


def find_correction(connection: Connection, scope: str, name: str) -> StoredCorrection | None:
    row = connection.execute(
        select(corrections).where(corrections.c.scope == scope, corrections.c.name == name)
    ).first()
    return None if row is None else _stored(row)


def _audit(
    connection: Connection,
    correction_id: int,
    action: Action,
    actor: str,
    now: int,
    before: Correction | None,
    after: Correction | None,
) -> None:
    subject = after or before
    assert subject is not None
    connection.execute(
        correction_audit.insert().values(
            correction_id=correction_id,
            action=action,
            actor=actor,
            at=now,
            scope=subject.scope,
            name=subject.name,
            before=json.dumps(correction_document(before)) if before else None,
            after=json.dumps(correction_document(after)) if after else None,
        )
    )


def insert_correction(
    connection: Connection, correction: Correction, actor: str, now: int
) -> Correction:
    """Store a new correction (its scope and name must be free); returns it with its id."""
    result = connection.execute(
        corrections.insert().values(
            **_values(correction),
            created_at=now,
            created_by=actor,
            updated_at=now,
            updated_by=actor,
        )
    )
    assert result.inserted_primary_key is not None
    stored = Correction(
        correction.spec,
        correction.service,
        correction.slo,
        correction.source,
        id=int(result.inserted_primary_key[0]),
    )
    _audit(connection, stored.id or 0, "create", actor, now, None, stored)
    return stored


def update_correction(
    connection: Connection, before: Correction, after: Correction, actor: str, now: int
) -> Correction:
    """Replace a stored correction's content (same id); returns the new one with its id."""
    assert before.id is not None
    connection.execute(
        update(corrections)
        .where(corrections.c.id == before.id)
        .values(**_values(after), updated_at=now, updated_by=actor)
    )
    stored = Correction(after.spec, after.service, after.slo, after.source, id=before.id)
    _audit(connection, before.id, "update", actor, now, before, stored)
    return stored


def delete_correction(connection: Connection, before: Correction, actor: str, now: int) -> None:
    assert before.id is not None
    connection.execute(delete(corrections).where(corrections.c.id == before.id))
    _audit(connection, before.id, "delete", actor, now, before, None)


def audit_trail(
    connection: Connection,
    *,
    correction_id: int | None = None,
    service: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Audit entries, newest first; optionally of one correction, or of one service's
    corrections (service-wide and per SLO)."""
    query = select(correction_audit).order_by(desc(correction_audit.c.id))
    if correction_id is not None:
        query = query.where(correction_audit.c.correction_id == correction_id)
    if service is not None:
        scope = correction_audit.c.scope
        query = query.where(or_(scope == service, scope.startswith(f"{service}/", autoescape=True)))
    rows = connection.execute(query.limit(limit).offset(offset))
    return [
        AuditEntry(
            id=row.id,
            correction_id=row.correction_id,
            action=row.action,
            actor=row.actor,
            at=row.at,
            scope=row.scope,
            name=row.name,
            before=json.loads(row.before) if row.before else None,
            after=json.loads(row.after) if row.after else None,
        )
        for row in rows
    ]
