"""The table of `faultline report`: worst budget first, and no SLO name ever cut.

Every column but the last is as wide as its widest cell; the last (the top spender: a failure
mode, or "unattributed" when causes nobody named spent more) wraps.
When that does not fit the terminal, the same figures are printed as a list instead.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from app.slo.report import SLOReport
from app.slo.spenders import describe, top_spender


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def worst_first(reports: list[SLOReport]) -> list[SLOReport]:
    """Most budget consumed first; ties by name."""
    return sorted(reports, key=lambda item: (-item.budget.consumed, item.key))


def show_table(console: Console, reports: list[SLOReport]) -> None:
    """The table when it fits the terminal with every SLO name whole; otherwise the same
    figures as a list, one SLO to a few lines (a narrow terminal, or very long names)."""
    table = _table(reports)
    # Each column's least width, plus a border and two spaces of padding around each.
    needed = sum(column.min_width or 0 for column in table.columns) + 3 * len(table.columns) + 1
    if needed <= console.width:
        console.print(table)
        return
    console.print("Error budgets, most consumed first", markup=False)
    for item in worst_first(reports):
        rates = " ".join(
            f"{window} {_rate(item.burn_rates.get(window))}" for window in ("1h", "6h", "1d")
        )
        console.print(
            f"\n{item.key}\n  {item.status.value}, {item.policy}, "
            f"consumed {_percent(item.budget.consumed)}; burn rate {rates}\n"
            f"  top spender: {_top_spender(item)}",
            markup=False,
            highlight=False,
        )


def _top_spender(item: SLOReport) -> str:
    """Unattributed spend ranks with the named modes: never a 1.4 % mode ahead of 98.6 %."""
    return describe(top_spender(item.attribution, item.unattributed))


COLUMNS = ("SLO", "status", "policy", "consumed", "1h", "6h", "1d", "top spender")


def _table(reports: list[SLOReport]) -> Table:
    """Worst first. Every column but the last is as wide as its widest cell, so nothing is cut;
    the top-spender column wraps. `show_table` uses a list where that does not fit."""
    rows = [
        (
            item.key,
            item.status.value,
            item.policy,
            _percent(item.budget.consumed),
            *(_rate(item.burn_rates.get(window)) for window in ("1h", "6h", "1d")),
            _top_spender(item),
        )
        for item in worst_first(reports)
    ]
    table = Table(title="Error budgets, most consumed first")
    for index, name in enumerate(COLUMNS[:-1]):
        width = max(len(name), *(len(row[index]) for row in rows)) if rows else len(name)
        table.add_column(
            name, no_wrap=True, min_width=width, justify="right" if index >= 3 else "left"
        )
    table.add_column(COLUMNS[-1], overflow="fold", min_width=16, ratio=1)
    for row in rows:
        table.add_row(*row)
    return table
