"""Reading the groups of a grouped SLO: the listing (filtered, sorted and paged in the
database, from the groups' status snapshots), one group's full report, and what the dashboards'
pages of a group read (its ledger row, its spend by failure mode, each SLO's worst groups)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from app.engine import spend
from app.engine.reports import build_slo_report
from app.engine.service import Engine
from app.engine.view_models import Attribution, SLOShare
from app.slo.groups import GroupDefinition, bounded_key, group_definition, group_slo_key
from app.slo.report import SLOReport
from app.slo.spec import slo_key
from app.slo.windows import Window
from app.store import groups, ledger, registry, status
from app.store.registry import StoredSLO
from app.store.status import ListingOrder, ListingQuery


@dataclass(frozen=True)
class GroupListing:
    reports: list[SLOReport]  # the requested page, in order
    total: int  # groups matching the filter, on all pages
    group_by: tuple[str, ...]
    max_groups: int
    overflow: groups.Overflow  # groups beyond `max_groups`, counted in "other"


def list_groups(
    engine: Engine,
    key: str,
    *,
    search: str | None = None,
    sort: ListingOrder = "remaining",
    order: Literal["asc", "desc"] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> GroupListing:
    """The groups of the grouped SLO `key`, worst budget first unless told otherwise; KeyError
    when `key` is not a loaded grouped SLO."""
    definition = engine.definitions.get(key)
    if definition is None or not definition.spec.group_by:
        raise KeyError(key)
    with engine.store.read() as connection:
        stored = registry.get_slo(connection, key)
        if stored is None:
            raise KeyError(key)
        query = ListingQuery(
            order=sort,
            descending=(order or ("desc" if sort == "burn_rate" else "asc")) == "desc",
            limit=limit,
            offset=offset,
            parent_id=stored.id,
            search=search,
        )
        total, documents = status.listing(connection, query)
        overflow = groups.overflow(connection, stored.id)
    return GroupListing(
        [SLOReport.model_validate_json(document) for document in documents],
        total,
        definition.spec.group_by,
        definition.spec.group_limit,
        overflow,
    )


def group_report(engine: Engine, key: str, group_key: str, at: int) -> SLOReport:
    """One group's full report (with incidents); KeyError when it is not a group of `key`."""
    definition = engine.definitions.get(key)
    with engine.store.read() as connection:
        parent = registry.get_slo(connection, key)
        stored = registry.get_slo(connection, group_key)
        if definition is None or parent is None or stored is None:
            raise KeyError(group_key)
        if stored.parent_id != parent.id or stored.group_labels is None:
            raise KeyError(group_key)
        return build_slo_report(
            connection,
            stored,
            group_definition(definition, stored.group_labels),
            engine.definitions,
            at,
            freshness=engine.config.freshness,
        )


def group_counts(engine: Engine) -> dict[str, tuple[int, int]]:
    """Loaded grouped SLO key → (groups with a ledger, groups counted in "other")."""
    grouped = [slo.key for slo in engine.definitions.slos if slo.spec.group_by]
    if not grouped:
        return {}
    with engine.store.read() as connection:
        registered = registry.declared_hashes(connection)  # key → (id, hash), cheaply
        counts = groups.group_counts(connection)
    return {key: counts.get(registered[key][0], (0, 0)) for key in grouped if key in registered}


def groups_total(engine: Engine) -> tuple[int, int | None]:
    """(Groups with a ledger over every grouped SLO, "other" groups not counted; the global
    cap on them, `FAULTLINE_MAX_GROUPS_TOTAL`, None without one)."""
    with engine.store.read() as connection:
        return groups.groups_total(connection), engine.config.max_groups_total


def find_group(
    engine: Engine, key: str, labels: Mapping[str, str]
) -> tuple[GroupDefinition, StoredSLO] | None:
    """One group of the grouped SLO `key` by its labels (all of its `group_by` labels; the
    "other" group's are `__other__`): its definition and ledger row, or None."""
    definition = engine.definitions.get(key)
    if definition is None or not definition.spec.group_by:
        return None
    group_by = definition.spec.group_by
    if sorted(labels) != sorted(group_by):
        return None
    ordered = {name: labels[name] for name in group_by}
    group_key = group_slo_key(definition.service, definition.name, ordered)  # bounded
    with engine.store.read() as connection:
        parent = registry.get_slo(connection, key)
        stored = registry.get_slo(connection, group_key)
    if parent is None or stored is None or stored.parent_id != parent.id:
        return None
    return group_definition(definition, stored.group_labels or ordered), stored


def group_attribution(
    engine: Engine, definition: GroupDefinition, stored: StoredSLO, window: Window
) -> Attribution:
    """One group's spend by failure mode over `window`, summed exactly from its own ledger, as
    `spend.slo_attribution` sums an SLO's (its shares are the group's, under its key)."""
    slo = slo_key(definition.service, definition.name)
    with engine.store.read() as connection:
        totals = ledger.window_totals(connection, stored.id, [window])[0]
    found = spend.attribution_for(engine, window, {slo: totals}, "failure_mode")

    def mine(share: SLOShare) -> SLOShare:
        return share.model_copy(update={"slo": definition.key})

    return found.model_copy(
        update={
            "groups": [
                group.model_copy(update={"slos": [mine(s) for s in group.slos]})
                for group in found.groups
            ],
            "unattributed": [mine(share) for share in found.unattributed],
        }
    )


def worst_groups(engine: Engine, keys: Sequence[str], limit: int) -> dict[str, GroupListing]:
    """The `limit` groups with the least budget left of each grouped SLO of `keys` (SLOs that
    are not grouped are left out), each SLO's in one query paged in the database."""
    out = {}
    for key in keys:
        definition = engine.definitions.get(key)
        if definition is None or not definition.spec.group_by:
            continue
        try:
            out[key] = list_groups(engine, key, limit=limit)
        except KeyError:
            continue  # loaded but not registered yet
    return out


def group_ledgers(
    engine: Engine, key: str, group_keys: Sequence[str]
) -> dict[str, tuple[GroupDefinition, StoredSLO]]:
    """The definition and ledger row of each of `group_keys` (as its reports name it) that is a
    group of the grouped SLO `key`, read in one transaction."""
    definition = engine.definitions.get(key)
    if definition is None or not definition.spec.group_by:
        return {}
    out = {}
    with engine.store.read() as connection:
        parent = registry.get_slo(connection, key)
        if parent is None:
            return {}
        for group_key in group_keys:
            stored = registry.get_slo(connection, bounded_key(group_key))
            if stored is not None and stored.parent_id == parent.id and stored.group_labels:
                out[group_key] = (group_definition(definition, stored.group_labels), stored)
    return out
