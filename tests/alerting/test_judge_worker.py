"""The alert-judging worker: requests coalesce, a failed run does not end it, stop ends its thread."""

from __future__ import annotations

import threading
import time

from app.alerting.worker import JudgeWorker

DEADLINE = 30.0  # seconds; generous for a loaded machine, never reached when all is well


def wait_for(condition: object) -> None:
    assert callable(condition)
    ends = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < ends, "timed out"
        time.sleep(0.01)


def test_requests_during_a_run_make_exactly_one_more_run() -> None:
    runs: list[int] = []
    release = threading.Event()

    def judge() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            release.wait(DEADLINE)

    worker = JudgeWorker(judge)
    worker.request()
    wait_for(lambda: len(runs) == 1)
    for _ in range(5):
        worker.request()  # while the first run is held
    release.set()
    wait_for(lambda: len(runs) == 2)
    assert worker.stop(DEADLINE)
    assert runs == [0, 1]
    assert not any(thread.name == "alert-judge" for thread in threading.enumerate())


def test_a_failed_run_does_not_end_judging_and_stop_ends_the_thread() -> None:
    runs: list[int] = []

    def judge() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("store gone")

    worker = JudgeWorker(judge, name="alert-judge-failing")
    worker.request()
    wait_for(lambda: len(runs) == 1)
    worker.request()
    wait_for(lambda: len(runs) == 2)
    assert worker.stop(DEADLINE)
    worker.request()  # after stop: nothing runs, no thread starts
    assert len(runs) == 2
    assert not any(thread.name == "alert-judge-failing" for thread in threading.enumerate())


def test_stop_without_any_request_starts_nothing() -> None:
    assert JudgeWorker(lambda: None).stop(0)
