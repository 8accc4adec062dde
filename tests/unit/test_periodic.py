"""The periodic runner behind the reservation sweeper: it runs, survives failures, stops."""

from __future__ import annotations

import threading

from bazaar.infra.periodic import Periodic


def test_a_failing_run_is_logged_and_the_next_one_still_happens() -> None:
    # given a task that fails on its first run and signals on its second
    runs: list[int] = []
    second = threading.Event()

    def task() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("database is down")
        second.set()

    periodic = Periodic("test-periodic", 0.001, task)

    # when it runs in the background
    periodic.start()
    try:
        reached = second.wait(10)
    finally:
        periodic.stop()

    # then the failure did not stop the thread
    assert reached
    assert len(runs) >= 2


def test_run_once_swallows_the_task_error() -> None:
    def task() -> None:
        raise ValueError("boom")

    Periodic("test-once", 60, task).run_once()  # does not raise
