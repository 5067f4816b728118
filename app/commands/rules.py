"""`faultline rules`: write Prometheus recording and alerting rules, or check they are current."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    out,
    settings_from,
    valid_definitions,
)

DEFAULT_OUT = Path("alerts/prometheus")


def rules(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory of the generated `<service>.rules.yaml` files")
    ] = DEFAULT_OUT,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 when the files differ from the SLOs"),
    ] = False,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Generate the same burn-rate tiers as Prometheus rules, for teams that alert from it."""
    from app.alerting.promrules import rule_files, stale_files  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    loaded = valid_definitions(settings)
    generated = rule_files(loaded, settings.base_url)
    stale = stale_files(out_dir, generated) if out_dir.is_dir() else []
    if check:
        differing = [f for f in generated if _current(out_dir / f.name) != f.text]
        for rule_file in differing:
            _print_diff(out_dir / rule_file.name, rule_file.text)
        for path in stale:
            out.print(f"{path}: no SLO generates this file any more", markup=False)
        if differing or stale:
            err.print(
                f"[red]{len(differing) + len(stale)} generated file(s) out of date[/] in "
                f"{out_dir}; run `faultline rules --out {out_dir}`"
            )
            raise typer.Exit(1)
        err.print(f"[green]OK[/]: {len(generated)} rule file(s) in {out_dir} are current")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for rule_file in generated:
        (out_dir / rule_file.name).write_text(rule_file.text, encoding="utf-8")
    for path in stale:
        path.unlink()
    slo_count = len(loaded.slos)
    err.print(
        f"[green]wrote[/] {len(generated)} file(s) for {slo_count} SLO(s) to {out_dir}"
        + (f", removed {len(stale)} stale" if stale else "")
    )


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _print_diff(path: Path, wanted: str) -> None:
    current = _current(path)
    if current is None:
        out.print(f"{path}: missing", markup=False)
        return
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        wanted.splitlines(keepends=True),
        fromfile=str(path),
        tofile=f"{path} (generated)",
    )
    out.print("".join(list(diff)[:200]), markup=False, end="")
