"""`faultline report`: the table sorts worst first and never cuts an SLO name; a missing or
empty ledger is said to be so, with where it was looked for (exit 1, nothing on stdout)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from app.cli import cli
from app.commands.report_table import show_table, worst_first
from app.slo.conventions import Status
from app.slo.report import AttributionOut, BudgetOut, SLOReport, UnattributedOut
from app.store.store import Store

ROOT = Path(__file__).resolve().parents[2]
LONG = "payments-and-settlement/checkout-payment-authorisation-latency-p99"


def report(key: str, consumed: float, policy: str = "healthy") -> SLOReport:
    mode = AttributionOut.model_construct(
        failure_mode="payment-provider-timeout-after-retries",
        design_choice="synchronous-call",
        dependency=None,
        consumed=consumed * 0.75,
        share=0.75,
        bad=30.0,
    )
    fields: dict[str, Any] = {
        "key": key,
        "status": Status.OK,
        "policy": policy,
        "budget": BudgetOut(consumed=consumed, remaining=1 - consumed),
        "burn_rates": {"1h": 1.5, "6h": 0.25, "1d": 12.0},
        "attribution": [mode],
        "unattributed": UnattributedOut(consumed=consumed * 0.25, share=0.25, bad=10.0),
    }
    return SLOReport.model_construct(**fields)


SHIPPED_LONGEST = "order-history/projection-freshness"  # the longest key of slo_definitions/
REPORTS = [
    report("catalog/catalog-reads", 0.12),
    report(SHIPPED_LONGEST, 0.87, "at-risk"),
    report("checkout/checkout-success", 1.4, "exhausted"),
    report("queue/queue-freshness", 0.0),
]
WITH_A_LONG_NAME = [*REPORTS, report(LONG, 0.5, "watch")]


def rendered(reports: list[SLOReport], width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    show_table(console, reports)
    console.file.close()
    return console.export_text()


def test_the_worst_budget_comes_first() -> None:
    assert [item.key for item in worst_first(WITH_A_LONG_NAME)] == [
        "checkout/checkout-success",
        SHIPPED_LONGEST,
        LONG,
        "catalog/catalog-reads",
        "queue/queue-freshness",
    ]


@pytest.mark.parametrize(
    ("reports", "width", "layout"),
    [
        (REPORTS, 120, "table"),
        (REPORTS, 80, "list"),
        (WITH_A_LONG_NAME, 120, "list"),
        (WITH_A_LONG_NAME, 200, "table"),
    ],
    ids=["shipped names at 120", "shipped names at 80", "long name at 120", "long name at 200"],
)
def test_no_slo_name_is_cut(reports: list[SLOReport], width: int, layout: str) -> None:
    text = rendered(reports, width)
    for item in reports:
        assert item.key in text, text
    assert "…" not in text, text
    order = [text.index(item.key) for item in worst_first(reports)]
    assert order == sorted(order), text
    assert max(len(line) for line in text.splitlines()) <= width
    assert ("┃" in text) == (layout == "table"), text  # a table where it fits, else a list
    assert text.count("payment-provider") == len(reports)  # the top mode is wrapped, not cut


def test_a_missing_ledger_is_named_and_not_created(tmp_path: Path) -> None:
    ledger = tmp_path / "nowhere.db"
    result = CliRunner().invoke(cli, ["report", "--json", "--database-url", f"sqlite:///{ledger}"])
    assert result.exit_code == 1
    assert result.stdout == ""
    message = " ".join(result.stderr.split())
    assert f"no ledger at sqlite:///{ledger} ({ledger})" in message
    assert "--database-url" in message and "faultline demo" in message
    assert not ledger.exists()


def test_an_empty_ledger_is_said_to_be_empty(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the README's default: ./faultline.db
    Store("sqlite:///faultline.db").open().close()  # a ledger nothing was evaluated in
    result = CliRunner().invoke(
        cli, ["report", "--json", "--definitions", str(ROOT / "slo_definitions")]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    message = " ".join(result.stderr.split())
    assert re.search(
        rf"the ledger at sqlite:///faultline\.db \({tmp_path}/faultline\.db\) is empty", message
    ), message
