"""Errors as JSON: `{"error": {"status": 404, "message": "…", "details": …}}`, never HTML.

Paths under `/api/` never reach the dashboards (see `app.web.mount`), so unknown paths answer
404 and known paths asked with another method 405 here, as JSON. A failing ledger store answers
503 without the driver's text (it names hosts, ports, SQL and parameters); the detail is logged
on the server instead."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.store.errors import StoreError

log = logging.getLogger(__name__)

STORE_UNAVAILABLE = "the ledger store is unavailable; try again shortly"


class ApiError(Exception):
    """Raised by routes for a clean JSON error response."""

    def __init__(self, status: int, message: str, details: Any = None) -> None:
        self.status = status
        self.message = message
        self.details = details
        super().__init__(message)


def _body(status: int, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(_body(error.status, error.message, error.details), error.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body(error.status_code, str(error.detail)), error.status_code, headers=error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {
                "where": ".".join(str(part) for part in item["loc"]),
                "problem": str(item["msg"]).removeprefix("Value error, "),
            }
            for item in error.errors()
        ]
        return JSONResponse(_body(422, "invalid request", details), 422)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, error: StoreError) -> JSONResponse:
        # During an outage this record is dropped (see app.store.outage): one line says it all.
        log.warning("%s %s: %s", request.method, request.url.path, error)
        return JSONResponse(_body(503, STORE_UNAVAILABLE), 503)
