"""The design-choice catalog."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import EngineDep, ReadAccess
from app.api.schemas import DesignChoiceOut, error_responses

router = APIRouter(
    prefix="/api/v1/catalog",
    tags=["catalog"],
    dependencies=[ReadAccess],
    responses=error_responses(401, 503),
)


@router.get("", response_model=list[DesignChoiceOut], summary="Design choices and their failures")
def catalog(engine: EngineDep) -> list[DesignChoiceOut]:
    return [
        DesignChoiceOut(
            name=name,
            title=choice.title,
            contains=choice.contains,
            introduces=choice.introduces,
            verification=choice.verification,
            buy_back=choice.buy_back,
            typical_slis=list(choice.typical_slis),
        )
        for name, choice in sorted(engine.definitions.catalog.design_choices.items())
    ]
