"""Every `/api/` path (and probe) answers JSON errors: unknown paths, wrong methods, numbers
and times out of range; none names SQL, the driver or the database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import TOKEN, Served

pytestmark = [pytest.mark.prometheus]

HUGE = "99999999999999999999999"
SLO = "/api/v1/slos/checkout/checkout-success"

# (method, path, query, expected status)
CASES = [
    ("GET", "/api", {}, 404),
    ("GET", "/api/", {}, 404),
    ("GET", "/api/v1/no-such-thing", {}, 404),
    ("GET", "/api/v2/slos", {}, 404),
    ("POST", "/api/v1/slos/checkout/checkout-success/nope", {}, 404),
    ("DELETE", "/api/v1/slos", {}, 405),
    ("POST", SLO, {}, 405),
    ("PUT", "/api/v1/corrections/1", {}, 405),
    ("GET", "/api/v1/definitions/reload", {}, 405),
    ("POST", "/readyz", {}, 405),
    ("DELETE", "/metrics", {}, 405),
    ("GET", "/api/v1/slos", {"offset": HUGE}, 422),
    ("GET", "/api/v1/slos", {"offset": "-1"}, 422),
    ("GET", "/api/v1/slos", {"limit": HUGE}, 422),
    ("GET", "/api/v1/corrections/audit", {"offset": HUGE}, 422),
    ("GET", "/api/v1/corrections/audit", {"correction": HUGE}, 422),
    ("GET", "/api/v1/corrections/" + HUGE, {}, 422),
    ("GET", SLO, {"at": HUGE}, 422),
    ("GET", SLO + "/incidents", {"at": HUGE}, 422),
    ("GET", SLO + "/history", {"start": "0", "end": HUGE}, 422),
    ("GET", SLO + "/history", {"resolution": HUGE + "s"}, 422),
    ("GET", SLO + "/attribution", {"start": HUGE}, 422),
    ("GET", "/api/v1/attribution", {"end": HUGE}, 422),
    ("GET", SLO + "/alerts", {"start": HUGE}, 422),
    ("GET", SLO + "/alerts", {"start": "-" + HUGE}, 422),
]


def test_every_api_error_is_json_without_internals(served: Callable[..., Served]) -> None:
    server = served("steady")
    answers = []
    with server.client(TOKEN) as client:
        for method, path, query, expected in CASES:
            answer = client.request(method, path, params=query)
            body = answer.text
            answers.append((method, path, query, answer.status_code, body[:200]))
            assert answer.status_code == expected, (method, path, query, body[:500])
            assert answer.headers["content-type"].startswith("application/json"), (path, body)
            error = answer.json()["error"]
            assert error["status"] == expected
            for internal in ("SELECT", "sqlite", "psycopg", "Traceback", "<html", "[SQL"):
                assert internal.lower() not in body.lower(), (method, path, body)
            if expected == 405:
                assert answer.headers["allow"], path
                assert method not in answer.headers["allow"]
    assert len(answers) == len(CASES)
