"""Reading the groups of a grouped SLO: the listing (filtered, sorted and paged in the
database, from the groups' status snapshots) and one group's full report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.engine.reports import build_slo_report
from app.engine.service import Engine
from app.slo.groups import group_definition
from app.slo.report import SLOReport
from app.store import groups, registry, status
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
