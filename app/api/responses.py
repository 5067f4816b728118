"""JSON responses serialised straight from a model that is already valid.

Returning a model makes FastAPI validate it again against `response_model` before serialising
it: for a page of 100 reports that second pass costs more than reading them from the store.
Routes whose models are built by our own code return `model_json(...)` instead; the decorator's
`response_model` still documents the shape in the OpenAPI schema (and schemathesis checks it).
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def model_json(model: BaseModel) -> Response:
    return Response(content=model.model_dump_json(by_alias=True), media_type="application/json")
