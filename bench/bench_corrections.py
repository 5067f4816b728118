"""Budget corrections: the cost of re-marking a stored ledger, and what they add to a tick.

    PYTHONPATH=. .venv/bin/python -m bench.bench_corrections [--days 90] [--database-url URL]

One SLO (checkout/checkout-success) with `--days` of one-minute slices and their rollups. Then,
one at a time: a one-off correction of an hour, a weekly two-hour maintenance window and an
hourly ten-minute one are created (the ledger they cover re-marked and its hours rebuilt, in one
transaction), and deleted again. Also measured: expanding the recurrences and masking every
slice of the ledger (pure), and the marker a tick builds for its new slice.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from app.engine.exclusions import apply_changes, exclusion_marker
from app.runtime.loading import load_definitions
from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction, CorrectionChange
from app.slo.exclusions import excluded_slices
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus
from app.slo.windows import Window
from app.store import ledger, registry
from app.store.store import Store

START = 1_706_745_600  # 2024-02-01 00:00 UTC, a Thursday
KEY = "checkout/checkout-success"
ROOT = Path(__file__).resolve().parents[1]


def corrections(days: int) -> list[CorrectionSpec]:
    middle = START + days // 2 * 86400
    common = {"category": "maintenance", "note": "bench"}
    return [
        CorrectionSpec(name="one-hour", start=middle, end=middle + 3600, **common),
        CorrectionSpec(
            name="weekly-2h",
            rrule="DTSTART:20240204T020000Z\nRRULE:FREQ=WEEKLY;BYDAY=SU",
            duration="2h",
            **common,
        ),
        CorrectionSpec(
            name="hourly-10m",
            rrule="DTSTART:20240201T000000Z\nRRULE:FREQ=HOURLY",
            duration="10m",
            **common,
        ),
    ]


def build(url: str, days: int) -> tuple[Store, int, int]:
    definitions = load_definitions(ROOT / "slo_definitions", alerts=ROOT / "alerts").definitions
    store = Store(url).open()
    slo = definitions.get(KEY)
    assert slo is not None
    with store.begin() as connection:
        registry.sync_definitions(connection, [slo], START)
        slo_id = registry.list_slos(connection)[0].id
    last = START + days * 86400
    for day in range(days):
        records = [
            SliceRecord(
                t=t,
                status=SliceStatus.OK,
                total=1000.0,
                bad=1.0,
                unattributed=0.1,
                modes={"payment-timeout": ModeSlice(credited=0.9)},
            )
            for t in range(START + day * 86400 + 60, START + (day + 1) * 86400 + 1, 60)
        ]
        with store.begin() as connection:
            ledger.write_slices(connection, slo_id, records)
            registry.advance_checkpoint(connection, slo_id, records[0].t, records[-1].t, 60)
    return store, slo_id, last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        began = time.perf_counter()
        store, _, last = build(url, args.days)
        print(f"ledger: {args.days * 1440:,} slices written in {time.perf_counter() - began:.1f}s")
        definitions = load_definitions(ROOT / "slo_definitions", alerts=ROOT / "alerts")
        only = replace(definitions.definitions, slos=(definitions.definitions.get(KEY),))
        locks: dict[str, threading.Lock] = {}
        window = Window(START, last)
        for spec in corrections(args.days):
            correction = Correction(spec, "checkout", "checkout-success")
            began = time.perf_counter()
            expanded = excluded_slices([correction], KEY, window, 60)
            mask = expanded.mask(START + 60, last)
            pure = time.perf_counter() - began
            began = time.perf_counter()
            created = apply_changes(
                store, only, lambda k: locks.setdefault(k, threading.Lock()),
                [CorrectionChange(None, correction, "bench")], last,
            )  # fmt: skip
            create = time.perf_counter() - began
            began = time.perf_counter()
            marker = exclusion_marker(store, KEY, Window(last - 60, last), 60)
            marker(SliceRecord(t=last, status=SliceStatus.OK))
            tick = time.perf_counter() - began
            stored = created.corrections[0]
            assert stored is not None
            began = time.perf_counter()
            deleted = apply_changes(
                store, only, lambda k: locks.setdefault(k, threading.Lock()),
                [CorrectionChange(stored, None, "bench")], last,
            )  # fmt: skip
            delete = time.perf_counter() - began
            assert created.remarked[KEY] == deleted.remarked[KEY] == sum(mask)
            print(
                f"{spec.name:>10}: {sum(mask):>6,} slices; expand+mask {pure * 1000:7.1f} ms; "
                f"create {create * 1000:8.1f} ms; delete {delete * 1000:8.1f} ms; "
                f"tick marker {tick * 1000:5.1f} ms"
            )
        store.close()


if __name__ == "__main__":
    main()
