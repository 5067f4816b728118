"""The groups of a grouped SLO: the list (worst budget first, filtered and paged in the
database) with the groups beyond `max_groups`, and one group's full report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import Field

from app.api.deps import EngineDep, ReadAccess
from app.api.errors import ApiError
from app.api.lookup import loaded_definition
from app.api.paging import Limit, Offset, Order, Search
from app.api.ranges import resolve_range
from app.api.responses import model_json
from app.api.schemas import Schema, error_responses
from app.engine import group_views, views
from app.engine.views import SortKey
from app.slo.definitions import SLODefinition
from app.slo.groups import group_slo_key, mode_scopes
from app.slo.report import SLOReport

router = APIRouter(
    prefix="/api/v1/slos",
    tags=["slos"],
    dependencies=[ReadAccess],
    responses=error_responses(401, 404, 422, 503),
)


class OverflowOut(Schema):
    count: int = Field(
        description="Groups beyond `max_groups` or `max_groups_total`, counted in the other group"
    )
    groups: list[dict[str, str]] = Field(description="The first of them, by labels")


class GroupPage(Schema):
    """One page of a grouped SLO's groups with their current status."""

    group_by: list[str]
    max_groups: int
    max_groups_total: int | None = Field(
        description="The global cap on groups with a ledger over every grouped SLO "
        "(FAULTLINE_MAX_GROUPS_TOTAL; how many there are: /metrics `faultline_groups`): a new "
        "group beyond it is counted in its SLO's other group and named in `overflow`"
    )
    mode_scopes: dict[str, str] = Field(
        description="Per failure mode: `group` (attributed per group) or `global` (its `when` "
        "holds for every group at once)"
    )
    overflow: OverflowOut
    items: list[SLOReport]
    total: int = Field(description="Groups matching the filters, on all pages")
    limit: int
    offset: int


@router.get(
    "/{service}/{slo}/groups", response_model=GroupPage, summary="The groups of a grouped SLO"
)
def list_groups(
    engine: EngineDep,
    service: str,
    slo: str,
    search: Search = None,
    sort: SortKey = "remaining",
    order: Order = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    definition = _grouped(engine, service, slo)
    listing = group_views.list_groups(
        engine, definition.key, search=search, sort=sort, order=order, limit=limit, offset=offset
    )
    page = GroupPage(
        group_by=list(listing.group_by),
        max_groups=listing.max_groups,
        max_groups_total=engine.config.max_groups_total,
        mode_scopes={name: scope.value for name, scope in mode_scopes(definition.spec).items()},
        overflow=OverflowOut(count=listing.overflow.count, groups=listing.overflow.groups),
        items=listing.reports,
        total=listing.total,
        limit=limit,
        offset=offset,
    )
    return model_json(page)


@router.get(
    "/{service}/{slo}/groups/report",
    response_model=SLOReport,
    summary="One group of a grouped SLO: the full report",
)
def get_group(
    engine: EngineDep,
    service: str,
    slo: str,
    group: Annotated[list[str], Query(description="LABEL:VALUE for every `group_by` label")],
    at: Annotated[str | None, Query(description="End of the window (RFC 3339)")] = None,
) -> Response:
    definition = _grouped(engine, service, slo)
    try:
        labels = dict(views.parse_label(item) for item in group)
    except views.FilterError as error:
        raise ApiError(422, str(error)) from None
    group_by = definition.spec.group_by or ()
    if sorted(labels) != sorted(group_by):
        raise ApiError(422, f"name the group by all of its labels: {', '.join(group_by)}")
    ordered = {name: labels[name] for name in group_by}
    key = group_slo_key(definition.service, definition.name, ordered)
    moment = resolve_range(None, at, engine.clock())[0].end
    try:
        return model_json(group_views.group_report(engine, definition.key, key, moment))
    except KeyError:
        raise ApiError(404, f"no group {key!r} (yet): see GET .../groups") from None


def _grouped(engine: EngineDep, service: str, slo: str) -> SLODefinition:
    definition = loaded_definition(engine, service, slo)
    if not definition.spec.group_by:
        raise ApiError(404, f"{definition.key!r} is not grouped (it has no `group_by`)")
    return definition
