"""Token rules for writes and reads, and a broken reload that keeps the running definitions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import TOKEN, Served, serve_engine
from tests.engine.conftest import REPO
from tests.fixtures.yamlbombs import BOMBS

pytestmark = [pytest.mark.prometheus]


def test_writes_need_the_token(served: Callable[..., Served]) -> None:
    server = served("steady")
    with server.client() as anonymous, server.client("wrong-token") as wrong:
        for client in (anonymous, wrong):
            refused = client.post("/api/v1/definitions/reload")
            assert refused.status_code == 401
            assert refused.json()["error"]["message"].startswith("a valid `Authorization")
            assert client.post("/api/v1/backfills", json={"since": "1h"}).status_code == 401
        assert anonymous.get("/api/v1/slos").status_code == 200  # reads are open by default
    with server.client(TOKEN) as admin:
        reloaded = admin.post("/api/v1/definitions/reload")
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["loaded"] == 11
        queued = admin.post(
            "/api/v1/backfills",
            json={
                "slos": ["checkout/checkout-success"],
                "start": str(server.end - 3600),
                "end": str(server.end),
            },
        )
        assert queued.status_code == 202, queued.text
        assert [job["slo"] for job in queued.json()["jobs"]] == ["checkout/checkout-success"]
        # The job runs in the background: let it finish before the ledger goes away.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = {job["state"] for job in admin.get("/api/v1/backfills").json()["jobs"]}
            if states <= {"done", "failed"}:
                break
            time.sleep(0.1)
        assert states == {"done"}
        unknown = admin.post("/api/v1/backfills", json={"slos": ["no/such"], "since": "1h"})
        assert unknown.status_code == 404


def test_without_a_configured_token_writes_are_off(served: Callable[..., Served]) -> None:
    server = served("steady")
    tokenless, url = serve_engine(
        server.engine,
        definitions=REPO / "slo_definitions",
        database_url=server.database_url,
        prometheus_url=server.running.url,
        token=None,
    )
    try:
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer anything"}) as client:
            refused = client.post("/api/v1/definitions/reload")
            assert refused.status_code == 403
            assert "FAULTLINE_API_TOKEN" in refused.json()["error"]["message"]
    finally:
        tokenless.stop()


def test_reads_can_require_the_token(served: Callable[..., Served]) -> None:
    server = served("steady", require_token_for_reads=True)
    with server.client() as anonymous, server.client(TOKEN) as reader:
        assert anonymous.get("/api/v1/slos").status_code == 401
        assert reader.get("/api/v1/slos").status_code == 200
        assert anonymous.get("/healthz").status_code == 200  # probes stay open
        # The documented exception (docs/operations.md, "Security and secrets").
        assert "faultline_slo_sli_ratio" in anonymous.get("/metrics").text


def test_a_broken_reload_keeps_the_previous_definitions(served: Callable[..., Served]) -> None:
    server = served("steady", copy_definitions=True)
    checkout = server.definitions / "checkout.yaml"
    checkout.write_text(checkout.read_text().replace("objective: 99.9", "objective: 199.9", 1))
    (server.definitions / "extra.yaml").write_text(
        "service: extra\nslos:\n  - name: x\n    objectiv: 99\n"
    )
    with server.client(TOKEN) as admin:
        before = admin.get("/api/v1/slos", params={"limit": 100}).json()
        refused = admin.post("/api/v1/definitions/reload")
        assert refused.status_code == 422
        problems = refused.json()["error"]["details"]
        assert any(p.startswith(f"{checkout}:11:16: slos[0].objective") for p in problems), problems
        assert any("extra.yaml:4:5: slos[0].objectiv: unknown key" in p for p in problems), problems
        after = admin.get("/api/v1/slos", params={"limit": 100}).json()
        assert [i["key"] for i in after["items"]] == [i["key"] for i in before["items"]]
        assert server.engine.definitions.get("checkout/checkout-success").spec.objective == 99.9


def test_a_reload_with_yaml_bombs_names_them_and_keeps_serving(
    served: Callable[..., Served],
) -> None:
    server = served("steady", copy_definitions=True)
    for name, make in BOMBS.items():
        (server.definitions / f"{name}.yaml").write_text(make())
    with server.client(TOKEN) as admin:
        before = admin.get("/api/v1/slos", params={"limit": 100}).json()
        started = time.monotonic()
        refused = admin.post("/api/v1/definitions/reload")
        assert time.monotonic() - started < 5
        assert refused.status_code == 422
        problems = refused.json()["error"]["details"]
        assert sorted(Path(p.split(":", 1)[0]).stem for p in problems) == sorted(BOMBS)
        assert all(re.search(r"\.yaml:\d+:\d+: refused: ", p) for p in problems), problems
        after = admin.get("/api/v1/slos", params={"limit": 100}).json()
        assert after["items"] == before["items"]
        for name in BOMBS:
            (server.definitions / f"{name}.yaml").unlink()
        reloaded = admin.post("/api/v1/definitions/reload")
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["loaded"] == 11
