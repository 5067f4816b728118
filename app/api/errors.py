"""Errors as JSON: `{"error": {"status": 404, "message": "…", "details": …}}`, never HTML."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.store.errors import StoreError


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
    async def store_error(_: Request, error: StoreError) -> JSONResponse:
        return JSONResponse(_body(503, f"the ledger store is unavailable: {error}"), 503)
