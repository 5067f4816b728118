"""Alerting cost: judging every SLO after a tick, and draining the outbox to a webhook.

    PYTHONPATH=. .venv/bin/python -m bench.bench_alerting [--slos 20] [--days 30]
        [--bad 1.0] [--notifications 1000] [--database-url sqlite:///...]

1. `--slos` copies of checkout/checkout-success, each with `--days` of one-minute slices in the
   ledger (hourly rollups included), judged once per simulated tick: the cost the engine's
   after-tick hook adds to every tick. `--bad` of 1000 events per slice: at 1.0 (the budget's
   own rate) each SLO's ticket alert fires and is described every tick; at 0.1 nothing fires.
2. `--notifications` outbox rows delivered to a local threaded webhook receiver by one
   dispatcher: notifications per second, end to end (claim, sign, POST, mark delivered).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from app.alerting.dispatcher import DispatchConfig, Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.alerting.states import Transition, record_transition
from app.alerting.transitions import AlertState
from app.alerting.views import firing_alerts
from app.slo.alert_spec import Receiver
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus
from app.store import ledger, registry
from app.store.store import Store
from tests.alerting.copies import registered_copies
from tests.alerting.receiver import WebhookReceiver
from tests.alerting.support import only, shipped, with_receivers

START = 1_706_745_600  # 2024-02-01 00:00 UTC


def build(
    url: str, slos: int, days: int, bad: float = 1.0
) -> tuple[Store, AlertEvaluator, list[int], int]:
    base = with_receivers(only(shipped(), "checkout/checkout-success"), {})
    definitions, store, ids = registered_copies(url, base, slos, START)
    last = START + days * 86400
    began = time.perf_counter()
    for slo_id in ids:
        records = [
            SliceRecord(
                t=t,
                status=SliceStatus.OK,
                total=1000.0,
                bad=bad,
                unattributed=bad * 0.1,
                modes={"payment-timeout": ModeSlice(credited=bad * 0.9)},
            )
            for t in range(START + 60, last + 1, 60)
        ]
        with store.begin() as connection:
            ledger.write_slices(connection, slo_id, records)
            registry.advance_checkpoint(connection, slo_id, START + 60, last, 60)
    print(
        f"ledger: {slos} SLOs × {days} d of slices written in {time.perf_counter() - began:.1f} s"
    )
    evaluator = AlertEvaluator(store, lambda: definitions, base_url="http://bench")
    return store, evaluator, ids, last


def bench_evaluation(url: str, slos: int, days: int, ticks: int, bad: float) -> None:
    store, evaluator, ids, last = build(url, slos, days, bad)
    evaluator.evaluate()  # first judgement creates the state rows
    unchanged, judged = [], []
    for tick in range(ticks):
        began = time.perf_counter()
        evaluator.evaluate()  # nothing new in the ledger: the fast path
        unchanged.append(time.perf_counter() - began)
        t = last + 60 * (tick + 1)
        records = [SliceRecord(t=t, status=SliceStatus.OK, total=1000.0, bad=bad)]
        with store.begin() as connection:
            for slo_id in ids:
                ledger.write_slices(connection, slo_id, records)
                registry.advance_checkpoint(connection, slo_id, t, t, 60)
        began = time.perf_counter()
        evaluator.evaluate()
        judged.append(time.perf_counter() - began)
    median = statistics.median(judged)
    with store.read() as connection:
        firing = len(firing_alerts(connection))
    print(
        f"evaluation after a tick, {slos} SLOs × 5 rules: median {median * 1000:.0f} ms "
        f"(max {max(judged) * 1000:.0f} ms, {median / slos * 1000:.1f} ms per SLO); "
        f"nothing new: median {statistics.median(unchanged) * 1000:.0f} ms; {firing} alerts firing"
    )
    store.close()


def bench_dispatch(url: str, count: int) -> None:
    receiver = WebhookReceiver()
    receiver.start()
    definitions = with_receivers(
        only(shipped(), "checkout/checkout-success"),
        {"hook": Receiver(type="webhook", url=receiver.url)},
    )
    store = Store(url).open()
    with store.begin() as connection:
        registry.sync_definitions(connection, definitions.slos, START)
        slo_id = registry.list_slos(connection)[0].id
        now = time.time()
        for index in range(count):
            key = f"bench-{index:06d}"
            document = {"labels": {"alertname": "Bench"}, "idempotency_key": key, "n": index}
            transition = Transition(
                slo_id, f"tier-{index}", "page", AlertState.FIRING, START, key, "bench", document
            )
            record_transition(connection, transition, ["hook"], now)
    dispatcher = Dispatcher(store, lambda: definitions.alerts, DispatchConfig(batch=100))
    began = time.perf_counter()
    while len(receiver.handled) < count:
        dispatcher.run_once()
    elapsed = time.perf_counter() - began
    dispatcher.close()
    receiver.stop()
    store.close()
    print(f"dispatch: {count} webhook notifications in {elapsed:.1f} s = {count / elapsed:.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slos", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--bad", type=float, default=1.0)
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = options.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        bench_evaluation(url, options.slos, options.days, options.ticks, options.bad)
        dispatch_url = options.database_url or f"sqlite:///{Path(scratch) / 'outbox.db'}"
        bench_dispatch(dispatch_url, options.notifications)


if __name__ == "__main__":
    main()
