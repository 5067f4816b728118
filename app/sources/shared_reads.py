"""One tick's reads, shared: identical queries over the same instants are asked once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from app.sources.batching import batches
from app.sources.errors import (
    MalformedAnswerError,
    QueryCancelledError,
    QueryError,
    SourceUnavailableError,
)
from app.sources.signals import Matrix, Series, SignalSource

# One query over the instants `start, start + step, …, end`: (query, start, end, step).
Ask = tuple[str, int, int, int]
# `PrometheusSource.query_batch`: several queries' answers from one request.
Batcher = Callable[..., list[Matrix]]


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
        self._prefetching: ThreadPoolExecutor | None = None
        self._given_up = False  # the source failed a prefetch: no more of them

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

    def prefetch(self, asks: Sequence[Ask], threads: int) -> None:
        """Start asking `asks` a few to a request (`app.sources.batching`), in order, in
        `threads` threads of its own; `close` waits for them. Readers of a query in flight
        wait for its answer. A request that fails is left alone: its queries are asked one by
        one by whoever needs them, so a bad query costs its own SLO only, never its batch's."""
        batcher = getattr(self.source, "query_batch", None)
        if batcher is None or self._prefetching is not None:
            return
        groups: dict[tuple[int, int, int], dict[str, None]] = {}  # ordered sets of queries
        for query, start, end, step in asks:
            groups.setdefault((start, end, step), {})[query] = None
        work = [
            (batch, *instants)
            for instants, group in groups.items()
            for batch in batches(list(group))
        ]
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="prefetch")
        self._prefetching = pool
        for batch in work:
            pool.submit(self._ask_batch, batcher, *batch)

    def close(self) -> None:
        """Wait for prefetching to end (its requests are bounded by the deadline)."""
        if self._prefetching is not None:
            self._prefetching.shutdown(wait=True)

    def _ask_batch(
        self, batcher: Batcher, queries: list[str], start: int, end: int, step: int
    ) -> None:
        if self._given_up:
            return
        held: list[tuple[tuple[str, int, int, int], threading.Lock]] = []
        try:
            for query in queries:
                key = (query, start, end, step)
                with self._guard:
                    lock = self._pending.setdefault(key, threading.Lock())
                    if key in self._answers or not lock.acquire(blocking=False):
                        continue  # answered, or being asked alone
                held.append((key, lock))
            if not held:
                return
            try:
                answers = batcher(
                    [key[0] for key, _ in held], start, end, step, deadline=self.deadline
                )
            except (SourceUnavailableError, QueryCancelledError):
                self._given_up = True  # asked alone, they say so for their SLOs
                return
            except (QueryError, MalformedAnswerError):
                return
            with self._guard:
                self.asked += 1
                for (key, _), answer in zip(held, answers, strict=True):
                    self._answers[key] = answer
                    self._points += answer.points
        finally:
            for _, lock in held:
                lock.release()
