"""`faultline validate --prometheus-url`: every SLO that can never have data, where, why, the fix.

Against a real Prometheus over the `steady` scenario (one sample every 60 s), as of its end.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import RunningPrometheus
from tests.engine.conftest import REPO

pytestmark = [pytest.mark.prometheus]

TOTAL = 'sum(rate(http_requests_total{service="checkout"}[{{window}}]))'
SLOS = f"""\
service: checkout
slos:
  - name: fine
    objective: 99.9
    sli:
      events:
        total: {TOTAL}
        bad: sum(rate(http_requests_total{{service="checkout", code=~"5.."}}[{{{{window}}}}]))
    failure_modes:
      - name: typo-in-a-mode
        design_choice: synchronous-call
        bad: sum(rate(payment_timeouts_totl[{{{{window}}}}]))
  - name: misspelt-metric
    objective: 99.9
    sli:
      events:
        total: sum(rate(http_requests_totl{{service="checkout"}}[{{{{window}}}}]))
        bad: sum(rate(http_requests_totl{{code=~"5.."}}[{{{{window}}}}]))
  - name: wrong-label
    objective: 99.9
    sli:
      events:
        total: sum(rate(http_requests_total{{service="chekout"}}[{{{{window}}}}]))
        bad: sum(rate(http_requests_total{{service="chekout", code=~"5.."}}[{{{{window}}}}]))
  - name: too-sparse
    objective: 99.9
    slice: 30s
    sli:
      events:
        total: {TOTAL}
        bad: sum(rate(http_requests_total{{service="checkout", code=~"5.."}}[{{{{window}}}}]))
  - name: refused
    objective: 99
    sli:
      threshold:
        query: http_requests_total / on(service) http_requests_total
        op: "<="
        value: 1
"""


@pytest.fixture
def steady(prometheus_over: Callable[[str], RunningPrometheus]) -> RunningPrometheus:
    return prometheus_over("steady")


def validate(definitions: Path, *args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(
        cli,
        ["validate", "--definitions", str(definitions), str(definitions), *args],
        env={"FAULTLINE_PROMETHEUS_RETRIES": "0", "COLUMNS": "400"},
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout.splitlines(), " ".join(result.stderr.split())


def test_every_slo_that_can_never_have_data_is_named_with_position_reason_and_fix(
    steady: RunningPrometheus, tmp_path: Path
) -> None:
    shutil.copy(REPO / "slo_definitions" / "design_choices.yaml", tmp_path)
    (tmp_path / "checkout.yaml").write_text(SLOS)
    at = str(steady.scenario.end)
    code, lines, summary = validate(tmp_path, "--prometheus-url", steady.url, "--at", at)
    file = tmp_path / "checkout.yaml"
    before = "at all in the 1h before 2024-03-04T06:00:00Z"
    typo = "fix: check the metric name (a typo, or an exporter that is not scraped)"
    labels = "fix: check the label names and values against the metric's series"
    later = "; fine if the metric only appears with the first failure"
    assert [line.removeprefix(f"{file}:") for line in lines] == [
        f"12:14: slos[0].failure_modes[0].bad: warning: no series `payment_timeouts_totl` "
        f"{before}; {typo}{later}",
        f'17:16: slos[1].sli.events.total: no data: no series `http_requests_totl{{service="checkout"}}` '
        f"{before}; {typo}",
        f'18:14: slos[1].sli.events.bad: warning: no series `http_requests_totl{{code=~"5.."}}` '
        f"{before}; {typo}{later}",
        "23:16: slos[2].sli.events.total: no data: metric `http_requests_total` exists, but no "
        f'series matches `http_requests_total{{service="chekout"}}`; {labels}',
        "24:14: slos[2].sli.events.bad: warning: metric `http_requests_total` exists, but no "
        f'series matches `http_requests_total{{service="chekout",code=~"5.."}}`; {labels}{later}',
        # slos[3] (`too-sparse`, 30 s slices over 60 s samples) has no finding: its windowed
        # rate() counts sample differences and the engine learns the interval itself.
        lines[-1].removeprefix(f"{file}:"),
    ]
    assert lines[-1].startswith(
        f"{file}:36:16: slos[4].sli.threshold.query: no data: the source refused the query: "
        "found duplicate series for the match group"
    )
    assert lines[-1].endswith("fix: change the query so that the source accepts it")
    assert code == 1
    assert summary == (
        f"data: 5 SLO(s) checked against {steady.url} (prometheus): 3 can never have data as "
        "written, 3 warning(s)"
    )


def test_slos_with_data_pass_and_an_unreachable_source_is_named(
    steady: RunningPrometheus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    at = str(steady.scenario.end)
    code, lines, summary = validate(
        REPO / "slo_definitions", "--prometheus-url", steady.url, "--at", at
    )
    assert (code, lines) == (0, [])
    assert summary.startswith("data: 11 SLO(s) checked") and "0 can never have data" in summary
    two_hours_later = str(steady.scenario.end + 7200)
    code, lines, later = validate(
        REPO / "slo_definitions", "--prometheus-url", steady.url, "--at", two_hours_later
    )
    assert code == 1, later
    assert (
        'slos[0].sli.events.total: no data: `http_requests_total{service="checkout"}` has no '
        "fresh samples: none in the 1h before 2024-03-04T08:00:00Z, some in the day before (the "
        "target stopped reporting); fix: check that its target is scraped"
    ) in "\n".join(lines), later
    steady.server.stop()
    code, lines, summary = validate(REPO / "slo_definitions", "--prometheus-url", steady.url)
    assert code == 2 and lines == []
    assert summary.startswith(f"cannot check the data: Prometheus at {steady.url} is unavailable")
