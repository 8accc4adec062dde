"""Helpers for tests that race many requests against one shared resource."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bazaar.bootstrap import Container, build
from tests.support.factories import test_settings


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` on ``n`` threads released at the same moment; their results in order."""
    start = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        start.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def racing_container(db_url: str, tmp_path: Path) -> Container:
    """A container for hundreds of simultaneous writers: a pool that can hold them, and a
    SQLite busy timeout they can queue within on two cores (these races are about counting,
    not queueing)."""
    return build(
        test_settings(db_url, tmp_path, database_pool_size=20, sqlite_busy_timeout_ms=120_000)
    )
