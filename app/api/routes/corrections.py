"""Budget corrections: list (all, per SLO with occurrences), create, delete, and the audit trail.

Writes need the API token. The audit names the writer `api`, or `api:<name>` when the request
carries `X-Faultline-Actor: <name>` (a label for people, not an authentication). Corrections
declared in YAML are listed here too but changed only in their files.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EngineDep, ReadAccess, WriteAccess
from app.api.errors import ApiError
from app.api.lookup import loaded_definition
from app.api.ranges import PeriodStart, RangeEnd, resolve_range
from app.api.schemas import ErrorBody, error_responses
from app.engine import corrections
from app.engine.corrections import CorrectionError
from app.engine.exclusions import AppliedChanges
from app.slo.correction_spec import CorrectionCategory, CorrectionSpec
from app.slo.corrections import API_SOURCE, Correction
from app.slo.durations import format_duration
from app.slo.report import WindowOut, rfc3339
from app.slo.spec import NAME_PATTERN
from app.store.corrections import AuditEntry, StoredCorrection

ACTOR_PATTERN = r"^[A-Za-z0-9_.@+-][A-Za-z0-9_.@+ -]{0,99}$"
# Ids are 32-bit integers in the store.
CorrectionId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The correction's id")]
RESPONSES = error_responses(401, 403, 404, 422, 503) | {
    409: {"model": ErrorBody, "description": "The name is taken, or the correction is declared "
          "in a YAML file (change it there)"},
}  # fmt: skip

router = APIRouter(tags=["corrections"], responses=RESPONSES)


class CorrectionIn(CorrectionSpec):
    """A new correction for one SLO (`service` and `slo`) or a whole service (`service`)."""

    service: Annotated[str, Field(pattern=NAME_PATTERN)]
    slo: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None


class CorrectionOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    service: str
    slo: str | None = Field(description="null: every SLO of the service")
    name: str
    category: CorrectionCategory
    note: str
    start: str | None
    end: str | None
    rrule: str | None
    duration: str | None
    source: str = Field(description="`api`, or `file:<path>` for corrections declared in YAML")
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class SLOCorrectionOut(CorrectionOut):
    occurrences: list[WindowOut] = Field(description="where it falls in the window, clipped")
    excluded_slices: int = Field(description="slices of the window it covers")


class SLOCorrections(BaseModel):
    model_config = ConfigDict(frozen=True)

    window: WindowOut
    corrections: list[SLOCorrectionOut]


class CorrectionChanged(BaseModel):
    model_config = ConfigDict(frozen=True)

    correction: CorrectionOut
    remarked: dict[str, int] = Field(description="SLO key → slices whose exclusion changed")


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    correction_id: int
    action: str
    actor: str
    at: str
    scope: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _out(stored: StoredCorrection) -> CorrectionOut:
    correction, spec = stored.correction, stored.correction.spec
    return CorrectionOut(
        id=stored.id,
        service=correction.service,
        slo=correction.slo,
        name=spec.name,
        category=spec.category,
        note=spec.note,
        start=rfc3339(spec.start) if spec.start is not None else None,
        end=rfc3339(spec.end) if spec.end is not None else None,
        rrule=spec.rrule,
        duration=format_duration(spec.duration) if spec.duration is not None else None,
        source=correction.source,
        created_at=rfc3339(stored.created_at),
        created_by=stored.created_by,
        updated_at=rfc3339(stored.updated_at),
        updated_by=stored.updated_by,
    )


def _changed(stored: StoredCorrection, applied: AppliedChanges) -> CorrectionChanged:
    return CorrectionChanged(correction=_out(stored), remarked=applied.remarked)


def _actor(name: str | None) -> str:
    return API_SOURCE if name is None else f"{API_SOURCE}:{name.strip()}"


Actor = Annotated[
    str | None,
    Header(
        alias="X-Faultline-Actor",
        pattern=ACTOR_PATTERN,
        description="Who makes the change, for the audit (e.g. alice); default `api`",
    ),
]


@router.get(
    "/api/v1/corrections",
    response_model=list[CorrectionOut],
    dependencies=[ReadAccess],
    summary="Every budget correction (API and YAML), by scope and name",
)
def list_all(
    engine: EngineDep, service: Annotated[str | None, Query(description="Only this service")] = None
) -> list[CorrectionOut]:
    return [_out(item) for item in corrections.all_corrections(engine, service=service)]


@router.get(
    "/api/v1/corrections/audit",
    response_model=list[AuditEntryOut],
    dependencies=[ReadAccess],
    summary="Who created, changed or deleted which correction, and when (newest first)",
)
def audit_trail(
    engine: EngineDep,
    correction: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this correction id")
    ] = None,
    service: Annotated[str | None, Query(description="Only this service's corrections")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditEntryOut]:
    entries = corrections.audit(
        engine, correction_id=correction, service=service, limit=limit, offset=offset
    )
    return [_audit_out(entry) for entry in entries]


def _audit_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        correction_id=entry.correction_id,
        action=entry.action,
        actor=entry.actor,
        at=rfc3339(entry.at),
        scope=entry.scope,
        name=entry.name,
        before=entry.before,
        after=entry.after,
    )


@router.get(
    "/api/v1/corrections/{correction_id}",
    response_model=CorrectionOut,
    dependencies=[ReadAccess],
    summary="One correction",
)
def get_one(engine: EngineDep, correction_id: CorrectionId) -> CorrectionOut:
    try:
        return _out(corrections.find(engine, correction_id))
    except CorrectionError as error:
        raise ApiError(error.status, error.message) from None


@router.post(
    "/api/v1/corrections",
    response_model=CorrectionChanged,
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteAccess],
    summary="Create a correction; the ledger it covers is recomputed before the answer",
    description="One-off (`start`, `end`: RFC 3339) or recurring (`rrule`: RFC 5545 with "
    "DTSTART, and `duration`). Slices it touches spend no budget; `remarked` says how many "
    "stored slices of each SLO changed.",
)
def create(engine: EngineDep, body: CorrectionIn, actor: Actor = None) -> CorrectionChanged:
    spec = CorrectionSpec.model_validate(body.model_dump(exclude={"service", "slo"}))
    try:
        applied = corrections.create_correction(
            engine, Correction(spec, body.service, body.slo), _actor(actor)
        )
    except CorrectionError as error:
        raise ApiError(error.status, error.message) from None
    created = applied.corrections[0]
    assert created is not None and created.id is not None
    return _changed(corrections.find(engine, created.id), applied)


@router.delete(
    "/api/v1/corrections/{correction_id}",
    response_model=CorrectionChanged,
    dependencies=[WriteAccess],
    summary="Delete a correction made through the API; the ledger it covered is recomputed",
)
def delete(
    engine: EngineDep, correction_id: CorrectionId, actor: Actor = None
) -> CorrectionChanged:
    try:
        stored = corrections.find(engine, correction_id)
        applied = corrections.delete_correction(engine, correction_id, _actor(actor))
    except CorrectionError as error:
        raise ApiError(error.status, error.message) from None
    return _changed(stored, applied)


@router.get(
    "/api/v1/slos/{service}/{slo}/corrections",
    response_model=SLOCorrections,
    dependencies=[ReadAccess],
    summary="The corrections of one SLO (its own and its service's) with their occurrences",
)
def of_slo(
    engine: EngineDep,
    service: str,
    slo: str,
    start: PeriodStart = None,
    end: RangeEnd = None,
) -> SLOCorrections:
    definition = loaded_definition(engine, service, slo)
    key = definition.key
    window, _ = resolve_range(start, end, engine.clock(), definition=definition)
    shown = corrections.corrections_of(engine, key, window)
    return SLOCorrections(
        window=WindowOut(start=rfc3339(window.start), end=rfc3339(window.end)),
        corrections=[
            SLOCorrectionOut(
                **_out(item.stored).model_dump(),
                occurrences=[
                    WindowOut(start=rfc3339(o.start), end=rfc3339(o.end)) for o in item.occurrences
                ],
                excluded_slices=item.excluded_slices,
            )
            for item in shown
        ],
    )
