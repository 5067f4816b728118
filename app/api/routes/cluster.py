"""Membership: the leader, the live evaluating processes, the SLOs each holds, lease ages."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from app.api.deps import ReadAccess, State
from app.api.schemas import ClusterView, error_responses
from app.engine.cluster import cluster

router = APIRouter(prefix="/api/v1", tags=["operations"], responses=error_responses(401, 503))


@router.get(
    "/cluster",
    response_model=ClusterView,
    dependencies=[ReadAccess],
    summary="Evaluating processes on this ledger, the SLOs each holds, and the leader",
    description="PostgreSQL: every `faultline serve` evaluates the SLOs it holds by lease; "
    "the leader judges alerts, delivers notifications and runs backfills. SQLite: one "
    "evaluator (the leader here), no members. Read from the ledger: every process answers alike.",
)
def get_cluster(state: State) -> ClusterView:
    return ClusterView.model_validate(asdict(cluster(state.engine)))
