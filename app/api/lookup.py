"""The SLO a path names by SERVICE and SLO, or a 404 that says where to find the loaded ones."""

from __future__ import annotations

from app.api.errors import ApiError
from app.engine import views
from app.engine.service import Engine
from app.slo.definitions import SLODefinition
from app.slo.spec import slo_key


def _not_found(key: str) -> ApiError:
    return ApiError(404, f"no SLO {key!r}; see GET /api/v1/slos for the loaded ones")


def loaded_definition(engine: Engine, service: str, slo: str) -> SLODefinition:
    """The loaded definition of SERVICE/SLO."""
    key = slo_key(service, slo)
    definition = engine.definitions.get(key)
    if definition is None:
        raise _not_found(key)
    return definition


def registered_slo(
    engine: Engine, service: str, slo: str
) -> tuple[SLODefinition, views.RegisteredSLO]:
    """The loaded definition of SERVICE/SLO and its row in the store (its ledger's owner)."""
    key = slo_key(service, slo)
    found = views.lookup(engine, key)
    if found is None:
        raise _not_found(key)
    return found
