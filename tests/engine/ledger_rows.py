"""A ledger's rows, keyed by SLO key (ids differ between ledgers): slices and both rollup
levels with their failure-mode rows, up to a given time, for row-for-row comparisons between a
shared run and a clean single-process one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from app.store.store import Store
from app.store.tables import fivemin, fivemin_modes, hourly, hourly_modes, slices, slos

# (table, the column holding the slice or bucket end)
TABLES: tuple[tuple[Table, str], ...] = (
    (slices, "t"),
    (hourly, "hour"),
    (hourly_modes, "hour"),
    (fivemin, "bucket"),
    (fivemin_modes, "bucket"),
)


def _rounded(value: Any) -> Any:
    """Rollups are sums added up in chunk order: equal to 12 significant digits, not always
    to the last bit."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


def ledger_rows(url: str, through: int) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per SLO key and table, every row whose slice or bucket ends by `through`, in order."""
    store = Store(url).open(migrate=False)
    try:
        with store.snapshot() as connection:
            keys = dict(connection.execute(select(slos.c.id, slos.c.key)).all())
            found: dict[str, dict[str, list[tuple[Any, ...]]]] = {key: {} for key in keys.values()}
            for table, end in TABLES:
                columns = [c for c in table.c if c.name != "slo_id"]
                rows = connection.execute(
                    select(table.c.slo_id, *columns)
                    .where(table.c[end] <= through)
                    .order_by(*table.primary_key.columns)
                )
                for row in rows:
                    values = tuple(_rounded(value) for value in row[1:])
                    found[keys[row.slo_id]].setdefault(table.name, []).append(values)
    finally:
        store.close()
    return found


def row_differences(ours: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    """What differs, briefly (the first few rows per SLO and table)."""
    lines = []
    for key in sorted(set(ours) | set(clean)):
        for table in sorted(set(ours.get(key, {})) | set(clean.get(key, {}))):
            a, b = ours.get(key, {}).get(table, []), clean.get(key, {}).get(table, [])
            if a != b:
                extra, missing = set(a) - set(b), set(b) - set(a)
                lines.append(
                    f"{key} {table}: {len(a)} rows vs {len(b)} clean; "
                    f"only ours {sorted(extra)[:3]}, only clean {sorted(missing)[:3]}"
                )
    return lines
