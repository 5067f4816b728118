"""Registering a process's definitions in the ledger, by generation (`app.store.generations`).

One transaction: decide whether this process's set is current, and if it is, take the SLOs whose
declared definition changes from whoever evaluates them (a chunk of the old definition in flight
is refused by its lease's generation) and register the set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.slo.definitions import SLODefinition
from app.store import generations, registry, slo_leases
from app.store.generations import Decision
from app.store.registry import SyncResult
from app.store.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    decision: Decision
    result: SyncResult = field(default_factory=SyncResult)


def register(
    store: Store,
    definitions: Sequence[SLODefinition],
    holder: str,
    now: int,
    *,
    force: bool = False,
) -> Registration:
    digest = generations.set_hash(d.declared_hash for d in definitions)
    with store.begin() as connection:
        others = slo_leases.others_live(connection, holder, now)
        decision = generations.decide(
            connection, digest, holder, now, others_live=others, force=force
        )
        if decision.superseded:
            return Registration(decision)
        stored = {slo.key: slo for slo in registry.list_slos(connection, active_only=False)}
        changed = [
            stored[d.key].id
            for d in definitions
            if d.key in stored and stored[d.key].declared_hash not in (None, d.declared_hash)
        ]
        slo_leases.revoke(connection, changed)
        result = registry.sync_definitions(connection, definitions, now, decision.generation)
    return Registration(decision, result)


def evaluable(
    definitions: Sequence[SLODefinition], registered: Mapping[str, str | None]
) -> tuple[list[SLODefinition], list[str]]:
    """The loaded definitions registered (`registered`: declared hash by key) as declared here,
    and the keys of those registered with another declared definition (a newer or older
    generation's): left to the processes that hold it."""
    held, withheld = [], []
    for definition in definitions:
        if definition.key not in registered:
            continue
        if registered[definition.key] in (None, definition.declared_hash):
            held.append(definition)
        else:
            withheld.append(definition.key)
    return held, withheld


def say_superseded(decision: Decision) -> None:
    log.warning(
        "these definitions (generation %d) were superseded by generation %d, registered by "
        "another process: not registered again; SLOs declared otherwise here are left to the "
        "processes that hold generation %d",
        decision.own,
        decision.generation,
        decision.generation,
    )
