"""Pausing Python's cyclic garbage collector around bulk work.

A bulk import or a synthetic load keeps a batch's worth of objects alive at once (drafts,
products, rows, search documents), several hundred thousand of them, and frees them all by
reference counting when the batch ends. While they live, every collection the allocations
trigger traverses them again, and promotes them until a full collection walks the whole heap:
about a fifth of a bulk load's time, finding no garbage. Pausing the collector for the batch
skips that work; any cyclic garbage made meanwhile is collected once the collector runs again.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0  # how many paused() blocks are open, in any thread
_was_enabled = False  # whether the collector ran before the first of them


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (nor in other threads: the collector is global).

    Blocks may nest and overlap across threads; the collector runs again when the last one
    ends, and only if it was running before the first began.
    """
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def settle_heap() -> None:
    """Collect once, then exempt everything alive from future collections (``gc.freeze``).

    For a long-running process, once it has built what it serves with: the settings, the
    container, the app, its routes and models, the imported modules (some 200,000 objects)
    live as long as the process. Left in the collector's care, each full collection walks
    them all, a pause of tens of milliseconds that lands on whichever request allocated
    last; frozen, full collections walk only what was allocated since. Call it after
    start-up, not per request: frozen objects are never collected.
    """
    gc.collect()
    gc.freeze()
