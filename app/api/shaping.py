"""API shapes built from loaded definitions (ledger read models live in `app.engine`)."""

from __future__ import annotations

from app.api.schemas import Definition
from app.engine.views import RegisteredSLO
from app.slo.definitions import SLODefinition


def definition_out(definition: SLODefinition, stored: RegisteredSLO) -> Definition:
    spec = definition.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return Definition(
        service=definition.service,
        slo=definition.name,
        source=definition.source,
        line=definition.line,
        content_hash=stored.content_hash,
        history_hash=stored.history_hash,
        spec=spec,
        yaml=definition.text,
    )
