"""Time as an injected dependency, so rules about expiry and deadlines are testable."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> datetime:
        """Return the current time as a timezone-aware UTC datetime."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the current wall-clock time, timezone-aware in UTC."""
        return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime has no defined instant; guessing local time or UTC hides bugs.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"Clock times must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC)


class FixedClock:
    """A clock that only moves when told to; safe to share between threads in tests."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._now = _as_utc(start)

    def now(self) -> datetime:
        """Return the current fixed time in UTC."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` and return the new time.

        Raises ``ValueError`` for a negative step: use :meth:`set` to move backwards on purpose.
        """
        if seconds < 0:
            raise ValueError(f"Cannot advance by a negative duration ({seconds}s)")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (converted to UTC); raises ``ValueError`` if it is naive."""
        utc = _as_utc(moment)
        with self._lock:
            self._now = utc


def utcnow() -> datetime:
    """Return the current wall-clock time, timezone-aware in UTC."""
    return datetime.now(UTC)
