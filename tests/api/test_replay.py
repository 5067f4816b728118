"""`faultline replay` and `POST /api/v1/replay` answer the same question with the same numbers;
the API refuses nonsense with 422 and needs no token (it only reads)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.engine.service import Engine
from app.runtime.loading import load_definitions
from app.sources.prometheus import PrometheusSource, SourceConfig
from tests.api.conftest import serve_engine
from tests.engine.conftest import REPO
from tests.engine.test_replay_backtest import CHECKOUT, Week, week  # noqa: F401 - fixture

DEAD_PROMETHEUS = "http://127.0.0.1:9"  # never asked: replay reads only the ledger


@pytest.fixture(scope="module")
def directories(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shipped definitions, and alerts/ whose incidents are 5 % of the budget (as `week`)."""
    alerts = tmp_path_factory.mktemp("alerts")
    text = (REPO / "alerts" / "policies.yaml").read_text()
    assert "  min_consumed: 0.20\n" in text
    (alerts / "policies.yaml").write_text(text.replace("min_consumed: 0.20", "min_consumed: 0.05"))
    return REPO / "slo_definitions", alerts


@pytest.fixture(scope="module")
def served(served_engine: tuple[str, Engine]) -> str:
    return served_engine[0]


@pytest.fixture(scope="module")
def served_engine(
    week: Week,  # noqa: F811
    directories: tuple[Path, Path],
) -> Iterator[tuple[str, Engine]]:
    definitions, alerts = directories
    loaded = load_definitions(definitions, alerts=alerts)
    source = PrometheusSource(SourceConfig(url=DEAD_PROMETHEUS, timeout=1))
    engine = Engine(week.store, source, loaded.definitions)
    server, url = serve_engine(
        engine,
        definitions=definitions,
        database_url=week.url,
        prometheus_url=DEAD_PROMETHEUS,
        public_url="http://faultline.test",
    )
    yield url, engine
    server.stop()


def _numbers(answer: dict) -> list:  # type: ignore[type-arg]
    """Every figure of the answer except when it was generated."""
    return [answer["start_t"], answer["end_t"], answer["change"], answer["slos"]]


def test_cli_and_api_return_the_same_numbers(
    week: Week,  # noqa: F811
    served: str,
    directories: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    definitions, alerts = directories
    monkeypatch.setenv("FAULTLINE_ALERTS", str(alerts))
    monkeypatch.setenv("FAULTLINE_PUBLIC_URL", "http://faultline.test")
    start, end = str(week.first - 60), str(week.last)
    arguments = ["replay", "--slo", CHECKOUT, "--from", start, "--to", end, "--json"]
    arguments += ["--without", "payment-timeout", "--objective", "99.5"]
    arguments += ["--database-url", week.url, "--definitions", str(definitions)]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    by_cli = json.loads(result.stdout)
    body = {
        "slos": [CHECKOUT],
        "start": start,
        "end": end,
        "change": {"objective": 99.5, "modes": [{"mode": "payment-timeout", "kind": "remove"}]},
    }
    response = httpx.post(f"{served}/api/v1/replay", json=body, timeout=60)  # no token
    assert response.status_code == 200, response.text
    by_api = response.json()
    assert _numbers(by_api) == _numbers(by_cli)
    slo = by_api["slos"][0]
    assert slo["actual"]["incidents"] and slo["changed"]["incidents"] == []
    assert slo["difference"]["budget_consumed"] < 0
    assert all(alert["replayed"] for alert in slo["actual"]["alerts"])
    table = CliRunner().invoke(cli, [a for a in arguments if a != "--json"])
    assert table.exit_code == 0, table.output
    assert "replayed" in table.stdout and "page-fast" in table.stdout


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"start": "now-1d", "end": "now-2d"}, "start must be before end"),
        ({"since": "200d"}, "at most 92 days"),
        ({"start": "now-1d", "since": "1d"}, "either start or since"),
        ({"slos": ["no/such"]}, "no SLO loaded"),
        ({"change": {"modes": [{"mode": "nonexistent", "kind": "remove"}]}}, "failure mode"),
        ({"change": {"modes": [{"mode": "payment-timeout", "kind": "cap", "value": 5}]}}, "cap"),
        ({"change": {"modes": [{"mode": "payment-timeout", "kind": "scale", "value": -1}]}}, ""),
        ({"change": {"objective": 100}}, ""),
        ({"change": {"period": "fortnight"}}, "period"),
        ({"change": {"policy": {"tiers": []}}}, "at least one tier"),
        ({"window": "30d"}, ""),
        ({"slos": [f"s/{i}" for i in range(501)]}, "at most 500 items"),
    ],
)
def test_nonsense_is_refused_with_422(served: str, body: dict, says: str) -> None:  # type: ignore[type-arg]
    response = httpx.post(f"{served}/api/v1/replay", json=body, timeout=30)
    assert response.status_code == 422, response.text
    assert says in response.text


def test_the_cli_takes_a_policy_file_and_factors(
    week: Week,  # noqa: F811
    directories: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    definitions, alerts = directories
    monkeypatch.setenv("FAULTLINE_ALERTS", str(alerts))
    policy = tmp_path / "lax.yaml"
    policy.write_text(
        "policies:\n  lax:\n    tiers:\n"
        "      - {name: lax, severity: page, long_window: 1h, short_window: 5m,"
        " budget_fraction: 0.1}\n"
    )
    base = ["replay", "--slo", CHECKOUT, "--from", str(week.first - 60), "--to", str(week.last)]
    base += ["--database-url", week.url, "--definitions", str(definitions), "--json"]
    lax = CliRunner().invoke(cli, [*base, "--policy", str(policy)])
    assert lax.exit_code == 0, lax.output
    changed = json.loads(lax.stdout)["slos"][0]["changed"]
    assert [s["tier"] for s in changed["scores"]] == ["lax", "any"]
    assert changed["scores"][0]["missed"] == 2
    factor = CliRunner().invoke(cli, [*base, "--factor", "page-fast=72"])
    assert factor.exit_code == 0, factor.output
    scores = json.loads(factor.stdout)["slos"][0]["changed"]["scores"]
    assert next(s for s in scores if s["tier"] == "page-fast")["firings"] == 0
    for wrong in (["--scale", "payment-timeout"], ["--cap", "payment-timeout=2"],
                  ["--without", "nonexistent"], ["--factor", "no-such-tier=2"]):  # fmt: skip
        refused = CliRunner().invoke(cli, [*base, *wrong])
        assert refused.exit_code == 2, (wrong, refused.output)


def test_a_changed_policy_is_echoed_as_it_is_written(served: str) -> None:
    """The answer's `change` uses the request's field names (`for`, not `for_seconds`), as the
    OpenAPI schema says: schemathesis found the echo violating it."""
    tier = {"name": "p", "severity": "page", "long_window": 3600, "short_window": 300}
    body = {"change": {"policy": {"tiers": [tier | {"budget_fraction": 0.02, "for": 120}]}}}
    response = httpx.post(f"{served}/api/v1/replay", json=body, timeout=60)
    assert response.status_code == 200, response.text
    echoed = response.json()["change"]["policy"]["tiers"][0]
    assert echoed["for"] == 120 and "for_seconds" not in echoed


def test_replays_beyond_the_few_a_process_computes_at_once_are_told_to_ask_again(
    served_engine: tuple[str, Engine],
) -> None:
    url, engine = served_engine
    body = {"slos": [CHECKOUT], "since": "1d"}
    with engine.replay_slots.taken(), engine.replay_slots.taken():
        busy = httpx.post(f"{url}/api/v1/replay", json=body, timeout=30)
    assert busy.status_code == 429
    assert "ask again in a few seconds" in busy.json()["error"]["message"]
    # Slots are given back, whatever the answer was.
    assert httpx.post(f"{url}/api/v1/replay", json=body, timeout=30).status_code == 200
    assert httpx.post(f"{url}/api/v1/replay", json=body, timeout=30).status_code == 200
