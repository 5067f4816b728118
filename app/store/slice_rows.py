"""A chunk's slice rows, as the driver takes them.

Most slices of a backfill are quiet: they have data and no failure mode has anything in them,
so their `modes` text is one constant per SLO, their status `ok` and their no-data reason empty.
On SQLite those go in statements where the values that are the same for every quiet slice of
the chunk are bound once a statement, binding 5 to 8 values a row instead of 12. Building and
binding rows holds the interpreter lock, which the backfill's reading threads need: it was a
quarter of a 30-SLO backfill's time under that lock (bench/RESULTS.md). PostgreSQL's COPY takes
every row whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.slo.chunk_outcome import ChunkOutcome
from app.slo.ledger import SliceStatus

Row = tuple[Any, ...]


@dataclass(frozen=True)
class SliceRows:
    """Every row in full (`full`), or on SQLite the rows that are not quiet in full and the
    quiet ones as their varying values (`quiet`), read by `quiet_select` (a SELECT list in the
    order of `ledger.SLICE_COLUMNS`, of literals, `columnN` and two markers bound once a
    statement: `quiet_shared`, the SLO's id and its quiet modes text)."""

    full: list[Row]
    quiet: list[Row]
    quiet_select: str = ""
    quiet_shared: tuple[Any, ...] = ()


def slice_rows(slo_id: int, outcome: ChunkOutcome, *, compact: bool) -> SliceRows:
    """The chunk's rows; `compact` (SQLite): quiet slices apart, their shared values once."""
    if not compact:
        return SliceRows(_full_rows(slo_id, outcome, np.arange(outcome.size)), [])
    quiet = quiet_slices(outcome)
    chosen = np.flatnonzero(quiet)
    varying: list[Any] = [outcome.ends[chosen].tolist()]
    varying += [column[chosen].tolist() for column in (outcome.total, outcome.bad)]
    varying.append(outcome.unattributed[chosen].tolist())
    select = ["?", "column1", f"'{SliceStatus.OK.value}'", "column2", "column3", "column4", "?"]
    for column in (outcome.events_total, outcome.events_bad, outcome.value):
        if column is not None:
            varying.append(column[chosen].tolist())
        select.append(f"column{len(varying)}" if column is not None else "NULL")
    varying.append(outcome.excluded[chosen].tolist())
    select += [f"column{len(varying)}", "NULL"]  # excluded; no reason: quiet slices have data
    return SliceRows(
        _full_rows(slo_id, outcome, np.flatnonzero(~quiet)),
        list(zip(*varying, strict=True)),
        ", ".join(select),
        (slo_id, _quiet_text(_mode_shape(outcome))),
    )


def _full_rows(slo_id: int, outcome: ChunkOutcome, chosen: NDArray[np.intp]) -> list[Row]:
    if not chosen.size:
        return []
    ok = outcome.ok[chosen]
    missing = np.flatnonzero(~ok).tolist()

    def column(values: NDArray[Any] | None) -> list[Any]:
        if values is None:
            return [None] * chosen.size
        listed: list[Any] = values[chosen].tolist()
        for index in missing:
            listed[index] = None
        return listed

    statuses = np.where(ok, SliceStatus.OK.value, SliceStatus.NO_DATA.value).tolist()
    texts = mode_texts(outcome)
    reasons = outcome.no_data_texts()
    indices = chosen.tolist()
    return list(
        zip(
            [slo_id] * chosen.size,
            outcome.ends[chosen].tolist(),
            statuses,
            outcome.total[chosen].tolist(),
            outcome.bad[chosen].tolist(),
            outcome.unattributed[chosen].tolist(),
            [texts[index] for index in indices],
            column(outcome.events_total),
            column(outcome.events_bad),
            column(outcome.value),
            outcome.excluded[chosen].tolist(),
            [reasons[index] for index in indices],
            strict=True,
        )
    )


def quiet_slices(outcome: ChunkOutcome) -> NDArray[np.bool_]:
    """Per slice: it has data and no failure mode has anything in it."""
    quiet = outcome.ok.copy()
    for mode in outcome.modes:
        quiet &= mode.credited == 0
        if mode.raw_bad is not None:
            quiet &= mode.raw_bad == 0
        if mode.held is not None:
            quiet &= ~mode.held
    return quiet


def mode_texts(outcome: ChunkOutcome) -> list[str]:
    """Each slice's `modes` column, the text `ledger._encode_modes` writes: `{}` for no-data
    slices, one shared text for quiet slices, the rest one by one."""
    size = outcome.size
    texts = ["{}"] * size
    if not outcome.modes:
        return texts
    quiet = quiet_slices(outcome)
    constant = _quiet_text(_mode_shape(outcome))
    for index in np.flatnonzero(quiet).tolist():
        texts[index] = constant
    busy = np.flatnonzero(outcome.ok & ~quiet).tolist()
    if busy:
        columns = [
            (
                _name(mode.name),
                mode.credited.tolist(),
                None if mode.raw_bad is None else mode.raw_bad.tolist(),
                None if mode.held is None else mode.held.tolist(),
            )
            for mode in outcome.modes
        ]
        for index in busy:
            parts = []
            for name, credited, raw, held in columns:
                raw_text = "null" if raw is None else repr(float(raw[index]))
                held_text = "null" if held is None else ("1" if held[index] else "0")
                parts.append(f"{name}:[{float(credited[index])!r},{raw_text},{held_text}]")
            texts[index] = "{" + ",".join(parts) + "}"
    return texts


_name = cache(json.dumps)


def _mode_shape(outcome: ChunkOutcome) -> tuple[tuple[str, bool, bool], ...]:
    return tuple(
        (mode.name, mode.raw_bad is not None, mode.held is not None) for mode in outcome.modes
    )


@cache
def _quiet_text(modes: tuple[tuple[str, bool, bool], ...]) -> str:
    if not modes:
        return "{}"
    parts = [
        f"{_name(name)}:[0.0,{'0.0' if has_bad else 'null'},{'0' if has_when else 'null'}]"
        for name, has_bad, has_when in modes
    ]
    return "{" + ",".join(parts) + "}"
