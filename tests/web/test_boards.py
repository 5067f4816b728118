"""Board files: the shipped ones are valid, broken ones are reported at `file:line:col`, and
selectors choose and group SLOs as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.runtime.loading import load_definitions
from app.slo.boards import BoardSpec, group_name, group_order, parse_board
from app.slo.definitions import DefinitionSet
from app.web.boardfiles import load_boards
from tests.web.harness import REPO


@pytest.fixture(scope="module")
def shipped() -> DefinitionSet:
    loaded = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts")
    assert loaded.ok, loaded.problems
    return loaded.definitions


def test_the_shipped_boards_are_valid_and_each_selects_slos(shipped: DefinitionSet) -> None:
    loaded = load_boards(REPO / "dashboards", shipped.slos)
    assert loaded.problems == []
    names = [board.name for board in loaded.boards]
    assert names == ["fulfilment", "payments", "tier-1"]
    chosen = {board.name: [d.key for d in board.select(shipped.slos)] for board in loaded.boards}
    assert chosen["payments"] == [d.key for d in shipped.slos if d.labels.get("team") == "payments"]
    assert chosen["tier-1"] == [d.key for d in shipped.slos if d.labels.get("tier") == "1"]
    assert all(chosen.values())


BROKEN = """\
title: Broken
select:
  labels: {team: [payments, 7]}
  servces: [checkout]
group_by: "not a label"
"""


def test_broken_boards_are_reported_where_they_are_wrong(
    tmp_path: Path, shipped: DefinitionSet
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN)
    (tmp_path / "Bad Name.yaml").write_text("title: fine\n")
    (tmp_path / "nobody.yaml").write_text("title: Nobody\nselect:\n  labels: {team: nobody}\n")
    (tmp_path / "syntax.yaml").write_text("title: [unclosed\n")
    loaded = load_boards(tmp_path, shipped.slos)
    lines = [str(problem).replace(str(tmp_path) + "/", "") for problem in loaded.problems]
    assert lines == [
        "Bad Name.yaml:1:1: file name 'Bad Name' is not a board name (a-z, 0-9, . _ -)",
        "broken.yaml:3:29: select.labels.team[1]: Input should be a valid string",
        "broken.yaml:4:3: select.servces: unknown key 'servces'; allowed here: labels, services",
        "broken.yaml:5:11: group_by: String should match pattern '^[a-zA-Z_][a-zA-Z0-9_]*$'",
        "nobody.yaml:2:1: select: selects no SLO of the loaded definitions",
        "syntax.yaml:2:1: YAML syntax error: while parsing a flow sequence expected ',' or ']', "
        "but got '<stream end>'",
    ]
    assert [board.name for board in loaded.boards] == ["nobody"]


def test_the_cli_checks_boards(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    ok = CliRunner().invoke(cli, ["dashboards", "validate"])
    assert ok.exit_code == 0, ok.output
    (tmp_path / "broken.yaml").write_text(BROKEN)
    bad = CliRunner().invoke(cli, ["dashboards", "validate", str(tmp_path)])
    assert bad.exit_code == 1
    assert bad.stdout.splitlines()[0].startswith(f"{tmp_path}/broken.yaml:3:29: ")


def test_grouping(shipped: DefinitionSet) -> None:
    checkout = shipped.get("checkout/checkout-success")
    assert checkout is not None
    assert group_name("service", checkout) == "checkout"
    assert group_name("owner", checkout) == "payments-team"
    assert group_name("tier", checkout) == "1"
    assert group_name("region", checkout) == "(no region)"
    assert group_name("policy", checkout, "at-risk") == "at-risk"
    names = ["healthy", "exhausted", "watch", "at-risk"]
    assert sorted(names, key=lambda n: group_order("policy", n)) == [
        "exhausted",
        "at-risk",
        "watch",
        "healthy",
    ]
    assert sorted(["b", "a"], key=lambda n: group_order("service", n)) == ["a", "b"]


def test_a_board_may_leave_the_selector_out() -> None:
    board, problems = parse_board("title: Everything\nselect:\n", "all.yaml", "all")
    assert problems == [] and board is not None
    assert board.spec == BoardSpec(title="Everything")


def test_faultline_validate_checks_the_boards_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(REPO)
    assert CliRunner().invoke(cli, ["validate"]).exit_code == 0
    (tmp_path / "broken.yaml").write_text(BROKEN)
    result = CliRunner().invoke(cli, ["validate"], env={"FAULTLINE_DASHBOARDS": str(tmp_path)})
    assert result.exit_code == 1
    assert [line.split(": ", 1)[0] for line in result.stdout.splitlines()] == [
        f"{tmp_path}/broken.yaml:3:29",
        f"{tmp_path}/broken.yaml:4:3",
        f"{tmp_path}/broken.yaml:5:11",
    ]
