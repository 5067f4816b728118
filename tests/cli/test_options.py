"""Every command accepts the three shared options (and reads them from the environment)."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main

from app.cli import cli

SHARED = {"--definitions", "--prometheus-url", "--database-url"}


def leaf_commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """(path, command) for every runnable command (Typer ships its own click, so duck-type)."""
    if hasattr(group, "commands"):
        found = []
        for name, command in group.commands.items():
            found += leaf_commands(command, (*path, name))
        return found
    return [(path, group)]


COMMANDS = leaf_commands(typer.main.get_command(cli))


def test_every_command_is_found() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"validate", "serve", "backfill", "report", "rules", "demo"} <= names
    assert {"import sloth", "import openslo", "export openslo", "dashboards export"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_the_shared_options_are_accepted(path: tuple[str, ...], command: Any) -> None:
    options = {option for parameter in command.params for option in getattr(parameter, "opts", [])}
    assert options >= SHARED, f"faultline {' '.join(path)} lacks {SHARED - options}"
