"""Response and request schemas of the API.

The report is `app.slo.report.SLOReport`; history and attribution shapes are shared with the
dashboards in `app.engine.view_models`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.slo.report import SLOReport


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorDetail(Schema):
    status: int
    message: str
    details: object | None = None


class ErrorBody(Schema):
    """Every error the API returns: `{"error": {"status", "message", "details"}}`."""

    error: ErrorDetail


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries for the error statuses a router can answer with."""
    meaning = {
        401: "The bearer token is missing or wrong",
        403: "Writes are disabled (no FAULTLINE_API_TOKEN configured)",
        404: "No such SLO",
        422: "Invalid parameters or definitions (details say which)",
        429: "Busy: as many replays as a process computes at once are running; ask again",
        503: "The ledger store is unavailable",
    }
    return {code: {"model": ErrorBody, "description": meaning[code]} for code in codes}


class SLOPage(Schema):
    """One page of SLOs with their current status (from the latest evaluation)."""

    items: list[SLOReport]
    total: int = Field(description="SLOs matching the filters, on all pages")
    limit: int
    offset: int


class DesignChoiceOut(Schema):
    name: str
    title: str
    contains: str
    introduces: str
    verification: str
    buy_back: str | None
    typical_slis: list[str]


class Definition(Schema):
    service: str
    slo: str
    source: str
    line: int
    content_hash: str
    history_hash: str
    spec: dict[str, object]
    yaml: str


class ReloadResult(Schema):
    loaded: int
    added: list[str]
    changed_history: list[str]
    updated: list[str]
    removed: list[str]
    corrections: list[str] = Field(
        default_factory=list, description="YAML corrections synced, e.g. `create checkout/freeze`"
    )


class BackfillRequest(Schema):
    slos: list[str] | None = Field(default=None, description="SERVICE/NAME keys; default all")
    since: str | None = Field(default=None, description="e.g. 30d; or give start/end")
    start: str | None = None
    end: str | None = None


class Job(Schema):
    id: int
    slo: str
    start: str
    end: str
    done_through: str | None
    state: str
    error: str | None


class Jobs(Schema):
    jobs: list[Job]


class Health(Schema):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


class ClusterSLO(Schema):
    key: str
    generation: int = Field(description="Fencing token: grows whenever the SLO changes holder")
    held_for: float = Field(description="Seconds since this holder took the SLO")


class ClusterMember(Schema):
    holder: str = Field(description="host:pid:suffix of the process")
    joined_ago: float
    renewed_ago: float = Field(description="Seconds since its last lease renewal")
    definitions_generation: int | None = Field(
        description="The generation of the definitions set its files hold (None: not known yet)"
    )
    slos: list[ClusterSLO]


class ClusterLeader(Schema):
    holder: str
    generation: int
    held_for: float
    expires_in: float


class ClusterView(Schema):
    mode: Literal["shared", "single-evaluator"]
    this_process: str
    lease_seconds: float
    leader: ClusterLeader | None
    members: list[ClusterMember]
    unheld: list[str] = Field(description="Active SLOs no live member holds right now")
    definitions: ClusterDefinitions


class ClusterDefinitions(Schema):
    generation: int | None = Field(description="The current definitions generation")
    registered_by: str | None = Field(description="The process that registered it")
    registered_at: int | None
    this_process_generation: int | None = Field(
        description="The generation of this process's files"
    )
    superseded: bool = Field(
        description="This process holds an older set: it registers nothing, and evaluates only "
        "the SLOs registered as its files declare them"
    )
    withheld: list[str] = Field(
        description="SLOs this process does not evaluate: registered with another definition"
    )
