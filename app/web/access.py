"""The read-token rule for the dashboards: with reads protected, pages and callbacks need it too.

The API takes the token as `Authorization: Bearer …`; a browser cannot add that header to the
requests Dash makes, so the dashboards also take it from a cookie. Opening any page once with
`?token=<FAULTLINE_API_TOKEN>` sets the cookie (HttpOnly, SameSite=Strict, for the session)
and redirects to the same page without the token, so it does not stay in the address bar or
the history. The cookie is only good for the dashboards' reads; the API's writes take the
header alone. Dash's static files (scripts, styles) hold no data and stay open.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.process import DashboardSettings

READ_COOKIE = "faultline_read_token"
TOKEN_PARAMETER = "token"  # noqa: S105 - the name of the parameter, not a token
# Dash's code and styles: the same for everyone, no ledger data in them.
OPEN_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_favicon.ico")
REFUSED = (
    "This Faultline requires a token for reads. Open this page once with "
    "?token=<FAULTLINE_API_TOKEN> (the browser keeps it for the session)."
)


class ReadGate:
    """ASGI middleware in front of the dashboards that applies the read-token rule."""

    def __init__(self, app: ASGIApp, settings: Callable[[], DashboardSettings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = self.refusal(Request(scope))
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        """The response that replaces the page, or None to let the request through."""
        settings = self.settings()
        if not settings.require_token_for_reads or request.url.path.startswith(OPEN_PREFIXES):
            return None
        offered = request.query_params.get(TOKEN_PARAMETER)
        if offered is not None:
            return (
                _remember(request, offered) if settings.accepts_token(offered) else _refuse(request)
            )
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and settings.accepts_token(bearer):
            return None
        if settings.accepts_token(request.cookies.get(READ_COOKIE)):
            return None
        return _refuse(request)


def _remember(request: Request, token: str) -> Response:
    """Set the cookie and send the browser to the same page without the token in its URL."""
    rest = request.url.remove_query_params(TOKEN_PARAMETER)
    target = rest.path + (f"?{rest.query}" if rest.query else "")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        READ_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def _refuse(request: Request) -> Response:
    if request.url.path.startswith("/_dash-"):  # Dash's own requests read JSON
        body = {"error": {"status": 401, "message": REFUSED}}
        return Response(json.dumps(body), 401, media_type="application/json")
    return PlainTextResponse(REFUSED, 401)
