"""Unit of work: one transaction, and the events recorded during it.

A service opens a unit of work, changes state, records events and commits. The concrete unit
of work (``bazaar.infra.db.SqlUnitOfWork``) writes the recorded events to the outbox in the
same commit, so a state change and its events are never separated. Leaving the ``with`` block
without committing rolls everything back, events included.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from bazaar.kernel.events import Event


class UnitOfWork:
    """Base unit of work; subclasses provide ``_commit`` and ``_rollback``."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._committed = False

    def __enter__(self) -> Self:
        self.events = []
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.rollback()

    def record(self, *events: Event) -> None:
        """Queue events to be written with this unit of work's commit."""
        self.events.extend(events)

    def commit(self) -> None:
        self._commit()
        self._committed = True

    def rollback(self) -> None:
        self.events = []
        self._rollback()

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError
