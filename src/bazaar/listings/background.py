"""A polling loop in a background thread, for the listing context's two kinds of work.

Runs inside ``bazaar worker`` processes, or inside ``bazaar serve`` in the embedded set-up,
like the event dispatcher and the job runner. ``pass_once`` does one unit of work and says
whether there was any; an idle loop sleeps ``poll_s`` unless woken. A failing pass is logged
and retried after a capped backoff, so a database outage never kills the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("bazaar.listings")


class PollingLoop:
    def __init__(self, name: str, pass_once: Callable[[], bool], poll_s: float) -> None:
        self.name = name
        self._pass_once = pass_once
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Look for work now rather than at the next poll (called when work is queued)."""
        self._wake.set()

    def run_forever(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                busy = self._pass_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("background pass failed", extra={"loop": self.name})
                self._stop.wait(min(30.0, self.poll_s * 2**failures))
                continue
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
