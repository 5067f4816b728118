"""Request dependencies: the app state, and the bearer-token rules for reads and writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.context import ServiceState
from app.api.errors import ApiError
from app.engine.service import Engine

bearer = HTTPBearer(auto_error=False, description="FAULTLINE_API_TOKEN")


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.faultline
    return state


State = Annotated[ServiceState, Depends(get_state)]


def get_engine(state: State) -> Engine:
    return state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _token_matches(state: ServiceState, credentials: HTTPAuthorizationCredentials | None) -> bool:
    return state.settings.accepts_token(credentials.credentials if credentials else None)


def require_write(state: State, credentials: Credentials) -> None:
    """Writes need the token; with no token configured, writes are off (403), not open."""
    if state.settings.api_token is None:
        raise ApiError(403, "writes are disabled: set FAULTLINE_API_TOKEN to enable them")
    if not _token_matches(state, credentials):
        raise ApiError(401, "a valid `Authorization: Bearer <token>` header is required")


def require_read(state: State, request: Request) -> None:
    """Reads are open unless FAULTLINE_REQUIRE_TOKEN_FOR_READS is set.

    The header is read directly rather than through `bearer`, so the OpenAPI schema documents
    reads as open (their default) and only writes as requiring the token.
    """
    if not state.settings.require_token_for_reads:
        return
    if not state.settings.accepts_token(bearer_token(request)):
        raise ApiError(401, "a valid `Authorization: Bearer <token>` header is required")


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


WriteAccess = Depends(require_write)
ReadAccess = Depends(require_read)
