"""Generated Prometheus rules: current in git, valid for promtool, right about the data.

- `faultline rules --check` passes on the committed files and fails when one is edited, missing
  or stale;
- `promtool check rules` accepts every generated file, and the `promtool test rules` suites in
  `alerts/prometheus/tests/` show the page tier firing on a fast burn and a clean series quiet;
- the recorded error ratios are ratios of counts: against a real Prometheus they equal the
  ground truth's bad / total over the same window.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.alerting.conditions import alert_rules
from app.alerting.promrules import rule_files
from app.cli import cli
from app.slo.promexpr import events_signals
from app.slo.spec import SLOSpec
from app.testbed.prometheus import find_binary
from tests.alerting.support import shipped
from tests.conftest import RunningPrometheus, require_prometheus
from tests.testbed.promquery import query_range

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "alerts" / "prometheus"


def rules_command(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["rules", *args, "--definitions", str(REPO / "slo_definitions")],
        env={"FAULTLINE_ALERTS": str(REPO / "alerts"), "FAULTLINE_PUBLIC_URL": ""},
    )
    return result.exit_code, result.output


def test_the_committed_rules_are_current() -> None:
    code, output = rules_command("--check", "--out", str(GENERATED))
    assert code == 0, output


def test_check_fails_on_an_edited_a_missing_and_a_stale_file(tmp_path: Path) -> None:
    copy = tmp_path / "prometheus"
    shutil.copytree(GENERATED, copy)
    assert rules_command("--check", "--out", str(copy))[0] == 0
    checkout = copy / "checkout.rules.yaml"
    checkout.write_text(checkout.read_text().replace("14.4", "15"), encoding="utf-8")
    code, output = rules_command("--check", "--out", str(copy))
    assert code == 1 and "+" in output and "14.4" in output
    checkout.unlink()
    assert rules_command("--check", "--out", str(copy))[0] == 1
    assert rules_command("--out", str(copy))[0] == 0
    (copy / "retired.rules.yaml").write_text("groups: []\n", encoding="utf-8")
    code, output = rules_command("--check", "--out", str(copy))
    assert code == 1 and "retired.rules.yaml" in output
    assert rules_command("--out", str(copy))[0] == 0
    assert not (copy / "retired.rules.yaml").exists()
    assert rules_command("--check", "--out", str(copy))[0] == 0


@pytest.mark.prometheus
def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    require_prometheus()
    promtool = find_binary("promtool")
    files = sorted(str(path) for path in GENERATED.glob("*.rules.yaml"))
    assert len(files) == len({d.service for d in shipped().slos})
    check = subprocess.run(
        [promtool, "check", "rules", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # The suites are independent: run them side by side.
    suites = sorted((GENERATED / "tests").glob("*.test.yaml"))
    assert {suite.name for suite in suites} >= {"checkout.test.yaml", "orders.test.yaml"}
    runs = [
        subprocess.Popen(
            [promtool, "test", "rules", str(suite)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for suite in suites
    ]
    for suite, process in zip(suites, runs, strict=True):
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, f"{suite.name}:\n{output}"


def test_each_window_is_one_ratio_of_counts_not_an_average_of_ratios() -> None:
    text = next(
        f.text for f in rule_files(shipped(), "http://x") if f.name == "checkout.rules.yaml"
    )
    assert "avg_over_time" not in text.split("checkout-latency")[0]
    assert (
        '(sum(rate(http_requests_total{service="checkout", code=~"5.."}[3d])) or vector(0))'
        ' / sum(rate(http_requests_total{service="checkout"}[3d]))'
    ) in text


def test_mixed_units_are_converted_to_counts() -> None:
    spec = SLOSpec.model_validate(
        {
            "name": "mixed",
            "objective": 99,
            "sli": {
                "events": {
                    "total": "sum(increase(requests_total[{{window}}]))",
                    "bad": "sum(rate(errors_total[{{window}}]))",
                }
            },
        }
    )
    signals = events_signals(spec)
    assert signals is not None and signals.unit == "count"
    assert signals.error_ratio(3600) == (
        "((sum(rate(errors_total[1h])) * 3600) or vector(0)) / sum(increase(requests_total[1h]))"
    )


@pytest.mark.prometheus
def test_recorded_ratios_equal_the_ground_truth_over_each_window(
    prometheus_over: Callable[[str], RunningPrometheus],
) -> None:
    running = prometheus_over("fast_burn")
    facts = running.built.named.facts
    definitions = shipped()
    checkout = next(d for d in definitions.slos if d.key == "checkout/checkout-success")
    signals = events_signals(checkout.spec)
    assert signals is not None
    truth = running.truth.slo(checkout.key)
    windows = sorted(
        {
            w
            for rule in alert_rules(checkout, definitions.policy_for(checkout))
            for w in (rule.long_window, rule.short_window)
            if rule.name != "no-data"
        }
    )
    moments = [int(facts["incident_start"]) + 1800, int(facts["incident_end"])]
    compared = 0
    for window in windows:
        for at in moments:
            got = query_range(running.url, signals.error_ratio(window), at, at)
            expected = truth.window(at - window, at)
            if expected.slices * 60 < window:
                continue  # the scenario does not reach back that far: Prometheus extrapolates
            assert got[at] == pytest.approx(expected.bad / expected.total, rel=1e-9), window
            compared += 1
    assert compared >= 8
