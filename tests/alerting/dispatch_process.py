"""A Faultline alerting process for crash tests: judge the ledger, then dispatch until killed.

    python -m tests.alerting.dispatch_process DATABASE_URL WEBHOOK_URL [--no-dispatch]

Prints `committed` once its evaluation's transaction is durable, then (unless `--no-dispatch`)
runs the dispatcher thread with a two-second lease, and otherwise sleeps: the test kills it with
SIGKILL at the moment it chooses, as a crash would.
"""

from __future__ import annotations

import sys
import time

from app.alerting.dispatcher import DispatchConfig, Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.store.store import Store
from tests.alerting.support import only, shipped, webhook_receiver, with_receivers

LEASE = 2.0


def main(argv: list[str]) -> None:
    database_url, hook_url = argv[0], argv[1]
    dispatch = "--no-dispatch" not in argv
    definitions = with_receivers(
        only(shipped(), "checkout/checkout-success"), {"hook": webhook_receiver(hook_url)}
    )
    store = Store(database_url).open()
    AlertEvaluator(store, lambda: definitions, base_url="http://faultline").evaluate()
    print("committed", flush=True)
    if dispatch:
        config = DispatchConfig(lease=LEASE, poll_interval=0.2, backoff_base=0.2, backoff_cap=1.0)
        Dispatcher(store, lambda: definitions.alerts, config).start()
    deadline = time.monotonic() + 120  # never outlive a broken test
    while time.monotonic() < deadline:
        time.sleep(0.1)


if __name__ == "__main__":
    main(sys.argv[1:])
