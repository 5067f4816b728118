"""Who evaluates what: the leader (or the SQLite evaluator), the live members and the SLOs each
holds, with lease ages, read from the leases in the ledger (so any process answers alike)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.engine.role import EVALUATOR, LEADER
from app.engine.service import Engine
from app.store import generations, leases, registry, slo_leases


@dataclass(frozen=True)
class HeldSLO:
    key: str
    generation: int
    held_for: float  # seconds since this holder took it


@dataclass(frozen=True)
class Member:
    holder: str
    joined_ago: float
    renewed_ago: float  # seconds since its last renewal; past the lease period it is gone
    definitions_generation: int | None
    slos: list[HeldSLO] = field(default_factory=list)


@dataclass(frozen=True)
class LeaderLease:
    holder: str
    generation: int
    held_for: float
    expires_in: float


@dataclass(frozen=True)
class Definitions:
    generation: int | None  # current
    registered_by: str | None
    registered_at: int | None
    this_process_generation: int | None
    superseded: bool  # this process holds an older set
    withheld: list[str]  # SLOs this process leaves to others (registered otherwise)


@dataclass(frozen=True)
class Cluster:
    mode: str  # "shared" (PostgreSQL) or "single-evaluator" (SQLite)
    this_process: str
    lease_seconds: float
    leader: LeaderLease | None
    members: list[Member]
    unheld: list[str]  # active SLOs no live member holds (between a death and its takeover)
    definitions: Definitions


def cluster(engine: Engine) -> Cluster:
    now = engine.clock()
    ttl = engine.config.lease_seconds
    shared = engine.store.dialect == "postgresql"
    with engine.store.read() as connection:
        lead = leases.get(connection, LEADER if shared else EVALUATOR)
        keys = {slo.id: slo.key for slo in registry.list_slos(connection)}
        members = slo_leases.live_members(connection, now) if shared else []
        held = slo_leases.slo_leases(connection) if shared else []
        current = generations.current(connection)
    by_holder: dict[str, list[HeldSLO]] = {member.holder: [] for member in members}
    for lease in held:
        key = keys.get(slo_leases.slo_id_of(lease.name))
        if key is not None and lease.expires_at > now and lease.holder in by_holder:
            by_holder[lease.holder].append(
                HeldSLO(key, lease.generation, round(now - lease.acquired_at, 1))
            )
    taken = {slo.key for slos in by_holder.values() for slo in slos}
    return Cluster(
        mode="shared" if shared else "single-evaluator",
        this_process=engine.holder,
        lease_seconds=ttl,
        leader=(
            LeaderLease(
                lead.holder,
                lead.generation,
                round(now - lead.acquired_at, 1),
                round(lead.expires_at - now, 1),
            )
            if lead is not None and lead.expires_at > now
            else None
        ),
        members=[
            Member(
                member.holder,
                round(now - member.acquired_at, 1),
                round(now - (member.expires_at - ttl), 1),
                member.generation or None,
                sorted(by_holder[member.holder], key=lambda slo: slo.key),
            )
            for member in members
        ],
        unheld=sorted(set(keys.values()) - taken) if shared else [],
        definitions=Definitions(
            generation=current.generation if current else None,
            registered_by=current.holder if current else None,
            registered_at=current.registered_at if current else None,
            this_process_generation=engine.definitions_generation,
            superseded=engine.superseded_by is not None,
            withheld=list(engine.withheld),
        ),
    )
