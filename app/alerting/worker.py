"""Alert judging on a thread of its own, so the tick that asks for it is not held.

Judging every SLO can take longer than a tick; run on the scheduler's tick thread it made the
next tick be skipped. Requests coalesce: one made while a judgement runs makes exactly one
more run after it, never a queue of them (each run judges every SLO at its newest checkpoint).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class JudgeWorker:
    def __init__(self, judge: Callable[[], object], *, name: str = "alert-judge") -> None:
        self._judge = judge
        self._name = name
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Judge soon (the thread starts with the first request); no-op once stopped."""
        with self._started:
            if self._stopping.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._wanted.set()

    def stop(self, timeout: float | None = None) -> bool:
        """No more runs; waits up to `timeout` for the one in progress. Whether it ended."""
        with self._started:
            self._stopping.set()
            self._wanted.set()
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping.is_set():
                return
            self._wanted.clear()  # a request from now on makes one more run
            try:
                self._judge()
            except Exception:  # a failed judgement must not end judging
                log.exception("alert judgement failed")
