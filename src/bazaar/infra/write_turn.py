"""Whose turn it is to write to one SQLite database: first among this process's threads,
then among the processes sharing the file.

SQLite lets one writer in at a time. A writer that finds the database locked waits inside
``BEGIN IMMEDIATE`` in SQLite's busy handler, which sleeps in growing steps (up to 100 ms)
between tries: under load, writers queued that way finish late and out of turn, and two
busy processes (two API workers, or the API and a ``bazaar worker``) spend much of their time
asleep. A :class:`WriteTurn` makes them queue instead:

* threads of one process on a reentrant lock, for up to ``wait_s``; a thread that gives up
  goes on to SQLite's own lock (and its busy timeout), as it would without this;
* processes on an exclusive ``flock`` of ``<database>.write-lock``, taken by the thread whose
  turn it is. The kernel wakes the waiting process as soon as the holder lets go, and drops
  the lock of a process that exits or crashes. A process stuck in a write transaction holds
  SQLite's lock as well, so the others could not write anyway; they wait for it here.

A nested write in the thread that holds the turn does not queue again: it meets SQLite's lock,
as before, rather than deadlocking on its own turn.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_SUFFIX = ".write-lock"


class WriteTurn:
    """Queue the writers of one SQLite file: threads, then processes (see the module)."""

    def __init__(self, database: Path | None, wait_s: float) -> None:
        self._path = None if database is None else Path(f"{database}{LOCK_SUFFIX}")
        self._wait_s = wait_s
        self._reset(os.getpid())

    def _reset(self, pid: int) -> None:
        # A forked child starts afresh: an inherited flock would be the parent's own lock.
        self._pid = pid
        self._threads = threading.RLock()
        self._depth = 0  # nesting of the holding thread; changed only by the holder
        self._fd: int | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if os.getpid() != self._pid:
            self._reset(os.getpid())
        threads = self._threads
        if not threads.acquire(timeout=self._wait_s):
            yield  # gave up waiting: SQLite's lock decides
            return
        try:
            self._depth += 1
            if self._depth == 1 and self._path is not None:
                self._lock_file()
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            threads.release()

    def _lock_file(self) -> None:
        assert self._path is not None
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        # Blocks without the GIL until the other process's writer is done.
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def close(self) -> None:
        """Close the lock file (the lock goes with it); for disposing of the database."""
        with self._threads:
            if self._fd is not None and self._depth == 0:
                os.close(self._fd)
                self._fd = None


def sqlite_file(database: str | None) -> Path | None:
    """The file of an SQLite URL's ``database`` part; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)
