"""One tick's reads, shared: identical queries over the same instants are asked once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from app.sources.signals import Matrix, Series, SignalSource


class SharedReads:
    """One tick's view of Prometheus: identical queries over the same instants are asked once.

    SLOs often share failure-mode queries (every SLO behind the payment provider counts its
    timeouts the same way); within a tick they read the same instants, so one answer serves all.
    Lives for one tick only, so answers are never older than the tick.
    """

    # Answers kept at most: a backfill reads thousands of points per query, and an answer is
    # only worth keeping while other SLOs are at the same chunk.
    MAX_POINTS = 500_000

    def __init__(self, source: SignalSource, deadline: float | None = None) -> None:
        self.source = source
        self.deadline = deadline  # the tick's end (time.monotonic()): no query runs past it
        self._answers: OrderedDict[tuple[str, int, int, int], Matrix] = OrderedDict()
        self._points = 0
        self._pending: dict[tuple[str, int, int, int], threading.Lock] = {}
        self._guard = threading.Lock()
        self.asked = 0
        self.shared = 0

    @property
    def closed_ranges(self) -> bool:
        return self.source.closed_ranges

    def chunks(self, start: int, end: int, step: int) -> list[tuple[int, int]]:
        return self.source.chunks(start, end, step)

    def query_range(self, query: str, start: int, end: int, step: int) -> Series:
        return self.query_matrix(query, start, end, step).by_time()

    def query_matrix(self, query: str, start: int, end: int, step: int) -> Matrix:
        key = (query, start, end, step)
        with self._guard:
            lock = self._pending.setdefault(key, threading.Lock())
        with lock:  # a second asker waits for the first answer instead of asking again
            with self._guard:
                answer = self._answers.get(key)
                if answer is not None:
                    self._answers.move_to_end(key)
                    self.shared += 1
                    return answer
            answer = self.source.query_matrix(query, start, end, step, deadline=self.deadline)
            with self._guard:
                self.asked += 1
                self._answers[key] = answer
                self._points += answer.points
                # Least recently used answers go first; one is asked again if still needed.
                while self._points > self.MAX_POINTS and len(self._answers) > 1:
                    _, dropped = self._answers.popitem(last=False)
                    self._points -= dropped.points
            return answer

    def read(
        self, queries: Mapping[str, str], start: int, end: int, step: int
    ) -> dict[str, Matrix]:
        return {key: self.query_matrix(query, start, end, step) for key, query in queries.items()}
