"""The groups of grouped SLOs: each group's ledger is a row of `slos` under the SLO's row.

A group row copies its SLO's definition, so everything that reads one SLO's ledger (budget,
burn rates, policy state, incidents, reports) reads a group's the same way. Group rows are never
registered from files: `registry.sync_definitions` and `registry.list_slos` see SLO rows only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, or_, select, update

from app.slo.groups import OTHER_VALUE, GroupKey, bounded_key
from app.store.ledger import delete_history
from app.store.tables import group_overflow, slos, statuses

OVERFLOW_KEPT = 1000  # overflowing groups named per SLO; beyond it they are only counted
# What a group's row takes from its SLO's, when added and whenever the SLO's row changes
# (not `active`: a group ages out on its own, and is deactivated with its SLO).
FOLLOWED = ("definition", "content_hash", "history_hash", "source_file",
            "slice_seconds", "updated_at", "declared_hash", "definitions_generation")  # fmt: skip


@dataclass(frozen=True)
class Group:
    id: int
    key: str
    labels: dict[str, str]
    checkpoint: int | None
    active: bool = True  # False once aged out (`retire_vanished`); its history stays


def groups_of(connection: Connection, parent_id: int) -> list[Group]:
    rows = connection.execute(
        select(slos.c.id, slos.c.key, slos.c.group_labels, slos.c.checkpoint, slos.c.active)
        .where(slos.c.parent_id == parent_id)
        .order_by(slos.c.key)
    )
    return [
        Group(row.id, row.key, json.loads(row.group_labels), row.checkpoint, row.active)
        for row in rows
    ]


def known_groups(
    connection: Connection, parent_id: int, group_by: Sequence[str]
) -> tuple[dict[GroupKey, int], set[GroupKey]]:
    """(group key → row id of every group with a ledger, the keys of those aged out)."""
    # Groups of an earlier `group_by` (other label names) stay aged out, apart.
    found = [g for g in groups_of(connection, parent_id) if set(g.labels) == set(group_by)]
    keys = [tuple(group.labels[name] for name in group_by) for group in found]
    retired = {key for key, group in zip(keys, found, strict=True) if not group.active}
    return {key: group.id for key, group in zip(keys, found, strict=True)}, retired


def groups_total(connection: Connection) -> int:
    """Groups with a ledger, not aged out, over every grouped SLO ("other" groups not counted):
    what the global cap on groups (`FAULTLINE_MAX_GROUPS_TOTAL`) bounds."""
    count = connection.execute(
        select(func.count())
        .select_from(slos)
        .where(slos.c.parent_id.is_not(None), slos.c.active.is_(True))
        .where(slos.c.key.not_like(f"%{{{OTHER_VALUE}}}"))
    )
    return int(count.scalar_one())


def retire_vanished(connection: Connection, parent_id: int, before: int) -> int:
    """Age out the groups with no data since `before` (the start of the SLO's period): they
    leave the listing and free their place under `max_groups`; their history stays."""
    result = connection.execute(
        update(slos)
        .where(slos.c.parent_id == parent_id, slos.c.active.is_(True))
        .where(or_(slos.c.checkpoint.is_(None), slos.c.checkpoint <= before))
        .values(active=False)
    )
    return int(result.rowcount or 0)


def reactivate(connection: Connection, ids: Sequence[int]) -> None:
    """Groups aged out that have data again."""
    for start in range(0, len(ids), 500):  # SQLite's bound parameters
        connection.execute(
            update(slos).where(slos.c.id.in_(ids[start : start + 500])).values(active=True)
        )


def add_groups(
    connection: Connection, parent_id: int, added: Sequence[tuple[str, Mapping[str, str]]]
) -> list[int]:
    """New group rows (key, labels) under `parent_id`, their definition copied from the SLO's
    row; their ids, in order."""
    if not added:
        return []
    parent = connection.execute(select(slos).where(slos.c.id == parent_id)).one()
    copied = {name: getattr(parent, name) for name in ("service", "name", *FOLLOWED)}
    ids = []
    for key, labels in added:
        values = copied | {
            "key": bounded_key(key),
            "parent_id": parent_id,
            "group_labels": json.dumps(dict(labels), sort_keys=True),
        }
        inserted = connection.execute(slos.insert().values(**values)).inserted_primary_key
        assert inserted is not None
        ids.append(int(inserted[0]))
    return ids


def record_overflow(
    connection: Connection, parent_id: int, groups: Sequence[Mapping[str, str]], now: int
) -> None:
    """Note groups counted in "other" (their `last_seen`), naming at most `OVERFLOW_KEPT`."""
    texts = [json.dumps(dict(labels), sort_keys=True)[:500] for labels in groups]
    if not texts:
        return
    known = set(
        connection.execute(
            select(group_overflow.c.labels).where(group_overflow.c.slo_id == parent_id)
        ).scalars()
    )
    seen = [text for text in texts if text in known]
    if seen:
        connection.execute(
            group_overflow.update()
            .where(group_overflow.c.slo_id == parent_id, group_overflow.c.labels.in_(seen))
            .values(last_seen=now)
        )
    room = max(0, OVERFLOW_KEPT - len(known))
    fresh = [text for text in dict.fromkeys(texts) if text not in known][:room]
    if fresh:
        connection.execute(
            group_overflow.insert(),
            [
                {"slo_id": parent_id, "labels": t, "first_seen": now, "last_seen": now}
                for t in fresh
            ],
        )


@dataclass(frozen=True)
class Overflow:
    count: int  # groups named (at most OVERFLOW_KEPT)
    groups: list[dict[str, str]]  # the first of them, by labels


def overflow(connection: Connection, parent_id: int, limit: int = 50) -> Overflow:
    where = group_overflow.c.slo_id == parent_id
    count = connection.execute(select(func.count()).select_from(group_overflow).where(where))
    rows = connection.execute(
        select(group_overflow.c.labels).where(where).order_by(group_overflow.c.labels).limit(limit)
    )
    return Overflow(int(count.scalar_one()), [json.loads(text) for text in rows.scalars()])


def group_counts(connection: Connection) -> dict[int, tuple[int, int]]:
    """SLO id → (groups with a ledger, not aged out; groups named as overflow), for every
    grouped SLO that has either, in two queries."""
    ledgers = connection.execute(
        select(slos.c.parent_id, func.count())
        .where(slos.c.parent_id.is_not(None), slos.c.active.is_(True))
        .group_by(slos.c.parent_id)
    )
    counts = {int(parent): (int(n), 0) for parent, n in ledgers}
    named = connection.execute(
        select(group_overflow.c.slo_id, func.count()).group_by(group_overflow.c.slo_id)
    )
    for slo_id, n in named:
        counts[int(slo_id)] = (counts.get(int(slo_id), (0, 0))[0], int(n))
    return counts


def reset_groups(connection: Connection, parent_id: int) -> None:
    """An SLO's queries changed: its groups' history goes (recomputed anew, as its own) and they
    stand aged out until data brings each back. The rows stay, so their alerts are resolved,
    not orphaned, and a group of the same labels takes its row back."""
    ids = list(connection.execute(select(slos.c.id).where(slos.c.parent_id == parent_id)).scalars())
    for group_id in ids:
        delete_history(connection, group_id)
        connection.execute(delete(statuses).where(statuses.c.slo_id == group_id))
    connection.execute(
        update(slos)
        .where(slos.c.parent_id == parent_id)
        .values(active=False, checkpoint=None, history_start=None)
    )
    connection.execute(delete(group_overflow).where(group_overflow.c.slo_id == parent_id))
