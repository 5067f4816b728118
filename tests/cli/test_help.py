"""The CLI as a newcomer reads it: help without Python type placeholders, with defaults and
environment variable names; `--version`; `export openslo --out DIR` writes into a directory
as `rules --out` and `dashboards export --out` do; the package metadata installs quietly."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from app import __version__
from app.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every group and command path, the root included (Typer ships its own click)."""
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += commands(command, (*path, name))
    return found


PATHS = commands(typer.main.get_command(cli))


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": "200"}, color=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "faultline" for p in PATHS])
def test_help_names_values_not_python_types(path: tuple[str, ...]) -> None:
    text = help_text(path)
    placeholders = re.findall(r"<(?:bool|int|float|str|path|Path|list\[[^>]*\]|\w+ range)>", text)
    assert not placeholders, f"faultline {' '.join(path)} --help shows {placeholders}:\n{text}"


def test_help_shows_defaults_and_environment_variables() -> None:
    text = help_text(("report",))
    for expected in (
        "--definitions           DIR",
        "[env: FAULTLINE_DEFINITIONS; default: slo_definitions/]",
        "[env: FAULTLINE_PROMETHEUS_URL; default: http://127.0.0.1:9090]",
        "[env: FAULTLINE_DATABASE_URL; default: sqlite:///faultline.db]",
        "--slo                   SERVICE/NAME",
        "--at                    TIME",
    ):
        assert expected in text, text
    serve = help_text(("serve",))
    assert "[env: FAULTLINE_HOST; default: 127.0.0.1]" in serve
    assert "[env: FAULTLINE_PORT; default: 8000]" in serve
    assert "[default: 8000]" in help_text(("demo",))
    assert "[env: FAULTLINE_DASHBOARDS; default: dashboards/]" in help_text(
        ("dashboards", "validate")
    )


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert (result.exit_code, result.output) == (0, f"faultline {__version__}\n")
    assert "--version" in help_text(())


@pytest.mark.parametrize("name", ["openslo", "openslo.d"])
def test_export_openslo_out_without_a_slash_is_a_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / name  # not there yet, no trailing slash
    result = CliRunner().invoke(cli, ["export", "openslo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_dir()
    files = sorted(path.name for path in out.iterdir())
    assert "checkout.yaml" in files and "alert-policies.yaml" in files, files


def test_export_openslo_out_naming_a_yaml_file_writes_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "all.yaml"
    result = CliRunner().invoke(cli, ["export", "openslo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.read_text().count("kind: SLO\n") == 11


def test_the_licence_is_an_spdx_expression() -> None:
    """The table form (`{text = ...}`) makes setuptools print a page of deprecation warnings at
    every install, which was the first thing `./run.sh demo` showed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in project["project"].get("classifiers", []))
    requires = project["build-system"]["requires"]
    assert "setuptools>=77" in requires  # the first setuptools that reads an SPDX string
