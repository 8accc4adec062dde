"""The SQL unit of work: one write transaction whose commit also writes the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Self

from sqlalchemy.engine import Connection, RootTransaction

from bazaar.infra import outbox
from bazaar.infra.db import Database
from bazaar.infra.logging import current_request_id
from bazaar.kernel.clock import Clock
from bazaar.kernel.events import Actor
from bazaar.kernel.uow import UnitOfWork


class SqlUnitOfWork(UnitOfWork):
    """Opens a write transaction on enter; ``commit`` writes recorded events in the same one.

    ``conn`` is the connection stores use while the unit of work is open. After a commit that
    wrote events, ``on_events`` is called (outside the transaction) so an in-process
    dispatcher can wake up at once instead of waiting for its next poll.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        resolvers: Sequence[outbox.SubscriberResolver],
        *,
        actor: Actor,
        on_events: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._db = db
        self._clock = clock
        self._resolvers = resolvers
        self.actor = actor
        self._on_events = on_events
        self._stack = ExitStack()
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self.event_ids: list[str] = []

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work is not open")
        return self._conn

    def __enter__(self) -> Self:
        super().__enter__()
        self.event_ids = []
        try:
            self._conn = self._stack.enter_context(self._db.writer())
            self._tx = self._conn.begin()
        except BaseException:
            self._conn = None
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            self._conn = None
            self._stack.close()  # the connection, then this process's write turn
            self._tx = None

    def mark_processed(self, consumer: str, event_id: str) -> bool:
        """Idempotency for event handlers: False when ``consumer`` already handled the event."""
        return outbox.mark_processed(self.conn, consumer, event_id, self._clock.now())

    def _commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("unit of work is not open")
        had_events = bool(self.events)
        self.event_ids = outbox.append_events(
            self.conn,
            self.events,
            actor=self.actor,
            request_id=current_request_id(),
            now=self._clock.now(),
            resolvers=self._resolvers,
        )
        self._tx.commit()
        self.events = []
        if had_events and self._on_events is not None:
            self._on_events()

    def _rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()
