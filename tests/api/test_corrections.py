"""Budget corrections over HTTP: token rules, create/list/delete, the audit, clear 422s, YAML."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.slo.report import rfc3339
from tests.api.conftest import TOKEN, Served, serve_engine
from tests.engine.conftest import REPO

pytestmark = [pytest.mark.prometheus]

KEY = "checkout/checkout-success"
PATH = "/api/v1/slos/checkout/checkout-success"


def incident(server: Served) -> tuple[int, int]:
    """fast_burn's incident; in other scenarios an hour in the middle."""
    facts = server.running.built.named.facts
    middle = server.running.scenario.start + 7200
    return int(facts.get("incident_start", middle)), int(facts.get("incident_end", middle + 3600))


def body(server: Served, **changes: Any) -> dict[str, Any]:
    start, end = incident(server)
    return {
        "service": "checkout",
        "slo": "checkout-success",
        "name": "provider-outage",
        "category": "out-of-scope-traffic",
        "note": "Payment provider outage, covered by its SLA credit",
        "start": rfc3339(start),
        "end": rfc3339(end),
    } | changes


def truth_consumed(server: Served, since: int, skip: range = range(0)) -> float:
    truth = server.running.truth.slo(KEY)
    kept = [k for k, t in enumerate(truth.ends) if since < t <= server.end and t not in skip]
    bad = math.fsum(truth.bad[k] for k in kept)
    return bad / math.fsum(truth.total[k] for k in kept) / (1 - truth.objective / 100)


def test_create_list_and_delete_with_the_token_and_every_change_audited(
    served: Callable[..., Served],
) -> None:
    server = served("fast_burn")
    start, end = incident(server)
    with server.client(TOKEN) as admin, server.client() as reader:
        before = reader.get(PATH).json()
        since = int(server.end - 30 * 86400)
        assert before["budget"]["consumed"] == pytest.approx(truth_consumed(server, since))

        created = admin.post(
            "/api/v1/corrections", json=body(server), headers={"X-Faultline-Actor": "alice"}
        )
        assert created.status_code == 201, created.text
        answer = created.json()
        assert answer["remarked"] == {KEY: 60}
        correction = answer["correction"]
        assert correction["start"] == rfc3339(start) and correction["end"] == rfc3339(end)
        assert (correction["source"], correction["created_by"]) == ("api", "api:alice")
        assert correction["created_at"] == rfc3339(server.end)  # the engine's clock

        after = reader.get(PATH).json()
        skip = range(start + 60, end + 60, 60)
        assert after["budget"]["consumed"] == pytest.approx(
            truth_consumed(server, since, skip), rel=1e-9
        )
        assert after["excluded_slices"] == 60
        listed = reader.get("/api/v1/slos", params={"search": "checkout-success"}).json()
        assert listed["items"][0]["budget"] == after["budget"]

        assert reader.get("/api/v1/corrections").json() == [correction]
        assert reader.get(f"/api/v1/corrections/{correction['id']}").json() == correction
        of_slo = reader.get(
            f"{PATH}/corrections", params={"start": str(server.running.scenario.start)}
        ).json()
        assert of_slo["corrections"] == [
            correction
            | {
                "occurrences": [{"start": rfc3339(start), "end": rfc3339(end)}],
                "excluded_slices": 60,
            }
        ]
        latency = reader.get("/api/v1/slos/checkout/checkout-latency/corrections").json()
        assert latency["corrections"] == []  # scoped to one SLO

        deleted = admin.delete(f"/api/v1/corrections/{correction['id']}")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json() == {"correction": correction, "remarked": {KEY: 60}}
        assert reader.get(PATH).json()["budget"] == before["budget"]
        assert reader.get(f"/api/v1/corrections/{correction['id']}").status_code == 404
        assert admin.delete(f"/api/v1/corrections/{correction['id']}").status_code == 404

        trail = reader.get("/api/v1/corrections/audit").json()
        assert [(e["action"], e["actor"], e["at"]) for e in trail] == [
            ("delete", "api", rfc3339(server.end)),
            ("create", "api:alice", rfc3339(server.end)),
        ]
        assert trail[1]["before"] is None and trail[0]["after"] is None
        assert trail[1]["after"] == trail[0]["before"]
        assert trail[1]["after"]["note"] == body(server)["note"]
        assert trail[1]["after"]["scope"] == KEY
        one = reader.get("/api/v1/corrections/audit", params={"correction": correction["id"]})
        assert one.json() == trail
        assert reader.get("/api/v1/corrections/audit", params={"service": "orders"}).json() == []


def test_writes_need_the_token_and_are_off_without_one(served: Callable[..., Served]) -> None:
    server = served("steady")
    with server.client() as anonymous, server.client("wrong") as wrong:
        for client in (anonymous, wrong):
            refused = client.post("/api/v1/corrections", json=body(server))
            assert refused.status_code == 401, refused.text
            assert client.delete("/api/v1/corrections/1").status_code == 401
        assert anonymous.get("/api/v1/corrections").status_code == 200  # reads are open
        assert anonymous.get("/api/v1/corrections/audit").json() == []
        paths = anonymous.get("/openapi.json").json()["paths"]
        assert {
            "/api/v1/corrections",
            "/api/v1/corrections/audit",
            "/api/v1/corrections/{correction_id}",
            "/api/v1/slos/{service}/{slo}/corrections",
        } <= set(paths)
        assert set(paths["/api/v1/corrections/{correction_id}"]) == {"get", "delete"}
    tokenless, url = serve_engine(
        server.engine,
        definitions=REPO / "slo_definitions",
        database_url=server.database_url,
        prometheus_url=server.running.url,
        token=None,
    )
    try:
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer anything"}) as client:
            refused = client.post("/api/v1/corrections", json=body(server))
            assert refused.status_code == 403
            assert "FAULTLINE_API_TOKEN" in refused.json()["error"]["message"]
            assert client.delete("/api/v1/corrections/1").status_code == 403
    finally:
        tokenless.stop()
    with server.client() as anonymous:
        assert anonymous.get("/api/v1/corrections/audit").json() == []  # nothing got through


WEEKLY = "DTSTART;TZID=Europe/Berlin:20240303T020000\nRRULE:FREQ=WEEKLY;BYDAY=SU"


INVALID = [
    ({"end": "2024-03-04T00:00:00Z"}, "body.end", "`end` must be after `start`"),
    ({"category": "outage"}, "body.category", "unknown category 'outage'; use one of"),
    (
        {"start": None, "end": None, "rrule": "DTSTART:20240303T020000Z\nFREQ=FORTNIGHTLY"},
        "body.rrule",
        "invalid RRULE: invalid 'FREQ': FORTNIGHTLY",
    ),
    (
        {"start": None, "end": None, "rrule": "RRULE:FREQ=WEEKLY", "duration": "1h"},
        "body.rrule",
        "needs exactly one DTSTART",
    ),
    ({"start": None, "end": None, "rrule": WEEKLY}, "body", "needs both `rrule` and `dur"),
    ({"duration": "2h"}, "body", "one-off (`start` and `end`) or recurring"),
    ({"start": "2024-03-04T03:30:00"}, "body.start", "give the time zone offset"),
    ({"start": None, "end": None, "rrule": WEEKLY, "duration": "2x"}, "body.duration", "2x"),
    ({"note": ""}, "body.note", "at least 1 character"),
    ({"name": "Not A Name"}, "body.name", "should match pattern"),
    ({"colour": "red"}, "body.colour", "Extra inputs are not permitted"),
]


def test_invalid_input_gets_a_clear_422(served: Callable[..., Served]) -> None:
    server = served("steady")
    failures = []
    with server.client(TOKEN) as admin:
        for changes, where, problem in INVALID:
            refused = admin.post("/api/v1/corrections", json=body(server, **changes))
            details = refused.json()["error"].get("details") or []
            found = any(d["where"] == where and problem in d["problem"] for d in details)
            if refused.status_code != 422 or not found:
                failures.append(f"{changes}: {refused.status_code} {details}")
        assert admin.get("/api/v1/corrections").json() == []
    assert not failures, "\n".join(failures)


def test_unknown_scopes_taken_names_bad_actors_and_yaml_corrections_are_refused(
    served: Callable[..., Served],
) -> None:
    server = served("steady", copy_definitions=True)
    with server.client(TOKEN) as admin:
        unknown = admin.post("/api/v1/corrections", json=body(server, slo="nope"))
        assert unknown.status_code == 422
        assert unknown.json()["error"]["message"] == "no SLO 'checkout/nope' is loaded"
        service = admin.post("/api/v1/corrections", json=body(server, service="nope", slo=None))
        assert service.json()["error"]["message"] == "no service 'nope' is loaded"
        actor = admin.post(
            "/api/v1/corrections", json=body(server), headers={"X-Faultline-Actor": "bad\tname"}
        )
        assert actor.status_code == 422
        assert actor.json()["error"]["details"][0]["where"] == "header.X-Faultline-Actor"
        assert admin.post("/api/v1/corrections", json=body(server)).status_code == 201
        taken = admin.post("/api/v1/corrections", json=body(server))
        assert taken.status_code == 409
        assert "already has a correction named 'provider-outage'" in taken.text

        # A correction declared in YAML arrives on reload, audited as its file.
        checkout = server.definitions / "checkout.yaml"
        text = checkout.read_text()
        checkout.write_text(
            text.replace(
                "slos:\n",
                "corrections:\n"
                "  - name: sunday-patching\n"
                "    category: maintenance\n"
                "    note: Database patching\n"
                "    rrule: |\n"
                "      DTSTART;TZID=Europe/Berlin:20240303T020000\n"
                "      RRULE:FREQ=WEEKLY;BYDAY=SU\n"
                "    duration: 2h\n"
                "slos:\n",
                1,
            )
        )
        reloaded = admin.post("/api/v1/definitions/reload")
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["corrections"] == ["create checkout/sunday-patching"]
        declared = next(
            c for c in admin.get("/api/v1/corrections").json() if c["name"] == "sunday-patching"
        )
        assert (declared["slo"], declared["duration"], declared["created_by"]) == (
            None,
            "2h",
            f"file:{checkout}",
        )
        refused = admin.delete(f"/api/v1/corrections/{declared['id']}")
        assert refused.status_code == 409
        assert f"declared in {checkout}" in refused.json()["error"]["message"]
        # Both checkout SLOs list it (service-wide), with no occurrence in a weekday window.
        for slo in ("checkout-success", "checkout-latency"):
            shown = admin.get(f"/api/v1/slos/checkout/{slo}/corrections").json()["corrections"]
            assert "sunday-patching" in [c["name"] for c in shown]
        checkout.write_text(text)
        assert admin.post("/api/v1/definitions/reload").json()["corrections"] == [
            "delete checkout/sunday-patching"
        ]
        trail = admin.get("/api/v1/corrections/audit", params={"service": "checkout"}).json()
        assert [(e["action"], e["name"], e["actor"]) for e in trail] == [
            ("delete", "sunday-patching", f"file:{checkout}"),
            ("create", "sunday-patching", f"file:{checkout}"),
            ("create", "provider-outage", "api"),
        ]
