"""The API's numbers equal `faultline report --json` and the ground truth, over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.slo.report import SLOReport
from tests.api.conftest import Served
from tests.engine.test_accuracy import WINDOW_SECONDS, epoch, mismatches

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


def report_json(served: Served) -> dict[str, dict[str, object]]:
    environment = {
        **os.environ,
        "FAULTLINE_DATABASE_URL": served.database_url,
        "FAULTLINE_DEFINITIONS": str(served.definitions),
    }
    command = [
        str(Path(sys.executable).with_name("faultline")),
        "report",
        "--json",
        "--at",
        str(served.end),
    ]
    result = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"generated_at", "slos"}
    return {item["key"]: item for item in document["slos"]}


def test_every_slo_equals_the_report_and_the_truth(served: Callable[..., Served]) -> None:
    server = served("fast_burn")
    reports = report_json(server)
    failures = []
    with server.client() as client:
        listed = client.get("/api/v1/slos", params={"limit": 1000}).json()
        assert listed["total"] == len(reports) == 11
        by_key = {item["key"]: item for item in listed["items"]}
        for key, expected in reports.items():
            service, name = key.split("/")
            detail = client.get(f"/api/v1/slos/{service}/{name}").json()
            assert detail == expected, key
            # The list shows the same figures (its snapshots leave incidents to the detail).
            assert {**by_key[key], "incidents": expected["incidents"]} == expected, key
            truth = server.running.truth.slo(key)
            report = SLOReport.model_validate(detail)
            period = truth.window(epoch(report.window.start), server.end)
            windows = {
                label: truth.window(server.end - WINDOW_SECONDS[label], server.end)
                for label in ("1h", "6h", "1d")
            }
            failures += [f"{key}: {problem}" for problem in mismatches(report, period, windows)]
    assert not failures, "\n".join(failures)


def test_history_and_attribution_add_up_to_the_report(served: Callable[..., Served]) -> None:
    server = served("overlapping")
    with server.client() as client:
        report = client.get("/api/v1/slos/checkout/checkout-success").json()
        # The ledger holds the scenario's six hours; the period reaches further back.
        start = str(server.running.scenario.start)
        history = client.get(
            "/api/v1/slos/checkout/checkout-success/history",
            params={"start": start, "end": report["window"]["end"], "resolution": "5m"},
        ).json()
        assert len(history["points"]) == 6 * 12
        points = history["points"]
        assert sum(point["bad"] for point in points) == pytest.approx(report["events"]["bad"])
        assert sum(point["total"] for point in points) == pytest.approx(report["events"]["total"])
        assert points[-1]["cumulative_consumed"] == pytest.approx(report["budget"]["consumed"])
        by_mode = {row["failure_mode"]: row for row in report["attribution"]}
        for mode, row in by_mode.items():
            summed = sum(point["consumed"][mode] for point in points)
            assert summed == pytest.approx(row["consumed"], abs=1e-12)
        attribution = client.get(
            "/api/v1/slos/checkout/checkout-success/attribution",
            params={"start": start, "end": report["window"]["end"]},
        ).json()
        for group in attribution["groups"]:
            assert group["slos"][0]["share"] == pytest.approx(by_mode[group["group"]]["share"])
        by_choice = client.get(
            "/api/v1/slos/checkout/checkout-success/attribution",
            params={"start": start, "end": report["window"]["end"], "group_by": "design_choice"},
        ).json()
        choices = {group["group"]: group["consumed"] for group in by_choice["groups"]}
        assert choices["synchronous-call"] == pytest.approx(by_mode["payment-timeout"]["consumed"])


def test_attribution_across_slos_ranks_failure_modes(served: Callable[..., Served]) -> None:
    server = served("queue_age")
    hour_end = server.end - server.end % 3600
    hour_start = server.running.scenario.start
    with server.client() as client:
        ranked = client.get(
            "/api/v1/attribution",
            params={"start": str(hour_start), "end": str(hour_end), "group_by": "failure_mode"},
        ).json()
        consumed = [group["consumed"] for group in ranked["groups"]]
        assert consumed == sorted(consumed, reverse=True)
        top = ranked["groups"][0]
        for hit in top["slos"]:
            service, name = hit["slo"].split("/")
            single = client.get(
                f"/api/v1/slos/{service}/{name}/attribution",
                params={"start": str(hour_start), "end": str(hour_end)},
            ).json()
            mine = next(group for group in single["groups"] if group["group"] == top["group"])
            assert mine["consumed"] == pytest.approx(hit["consumed"])
        assert top["verification"]  # the catalog's verification step is quoted
        catalog = client.get("/api/v1/catalog").json()
        assert {choice["name"] for choice in catalog} >= {"queue", "cache", "read-replica"}
