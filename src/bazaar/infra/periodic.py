"""A task run every few seconds in a background thread (the reservation sweeper).

Runs next to the event dispatcher: inside ``bazaar serve`` in the embedded set-up and in every
``bazaar worker``. The tasks it runs are safe to run in many processes at once, so there is
no leader election: two workers sweeping together just share the work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("bazaar.periodic")


class Periodic:
    """Calls ``task`` every ``interval_s`` seconds until :meth:`stop`.

    A failing run is logged and the next one happens at the next tick; the thread never dies
    of a task's exception.
    """

    def __init__(self, name: str, interval_s: float, task: Callable[[], object]) -> None:
        self.name = name
        self.interval_s = interval_s
        self._task = task
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        try:
            self._task()
        except Exception:
            log.exception("periodic task failed", extra={"task": self.name})

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
