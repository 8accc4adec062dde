"""Operator use cases over the audit log and the delivery queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bazaar.audit import store
from bazaar.audit.model import DeliveryFilter, DeliveryReplayed, EventFilter
from bazaar.identity.model import Principal, Role
from bazaar.infra import outbox
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, ValidationFailed
from bazaar.kernel.events import Actor, StoredEvent
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for

UowFactory = Callable[[Actor], SqlUnitOfWork]


class AuditService:
    def __init__(self, db: Database, uow: UowFactory, clock: Clock, cursors: CursorCodec) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._cursors = cursors

    def list_events(
        self, principal: Principal, f: EventFilter, limit: int, cursor: str | None
    ) -> Page[StoredEvent]:
        """The audit log, newest first, filtered; operators only."""
        principal.require_role(Role.OPERATOR)
        if f.since is not None and f.until is not None and f.until <= f.since:
            raise ValidationFailed.on("until", "Must be after 'since'")
        scope = scope_for("events", **vars(f))
        with self._db.read() as conn:
            before = after_from(self._cursors, cursor, scope)
            rows = store.list_events(conn, f, before, limit + 1)
        return page_after(self._cursors, rows, limit, scope, key=lambda e: e.id)

    def get_event(self, principal: Principal, event_id: str) -> StoredEvent:
        principal.require_role(Role.OPERATOR)
        with self._db.read() as conn:
            event = store.get_event(conn, event_id)
        if event is None:
            raise NotFound("No such event")
        return event

    def list_deliveries(
        self, principal: Principal, f: DeliveryFilter, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        """Deliveries newest first; ``status=dead`` is the dead-letter view."""
        principal.require_role(Role.OPERATOR)
        if f.status is not None and f.status not in outbox.DELIVERY_STATUSES:
            raise ValidationFailed.on(
                "status", "One of: " + ", ".join(outbox.DELIVERY_STATUSES), "invalid_choice"
            )
        scope = scope_for("deliveries", **vars(f))
        with self._db.read() as conn:
            before = after_from(self._cursors, cursor, scope)
            rows = store.list_deliveries(conn, f, before, limit + 1)
        return page_after(self._cursors, rows, limit, scope, key=lambda d: str(d["id"]))

    def get_delivery(
        self, principal: Principal, delivery_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A delivery with every attempt made so far."""
        principal.require_role(Role.OPERATOR)
        with self._db.read() as conn:
            delivery = store.get_delivery(conn, delivery_id)
            if delivery is None:
                raise NotFound("No such delivery")
            return delivery, store.attempts_for(conn, delivery_id)

    def replay_delivery(self, principal: Principal, delivery_id: str) -> dict[str, Any]:
        """Send a dead delivery back to the queue with a fresh attempt budget (audited)."""
        principal.require_role(Role.OPERATOR)
        with self._uow(principal.actor) as uow:
            delivery = store.get_delivery(uow.conn, delivery_id)
            if delivery is None:
                raise NotFound("No such delivery")
            if not outbox.replay_delivery(uow.conn, delivery_id, self._clock.now()):
                raise Conflict(
                    f"Only dead deliveries can be replayed; this one is {delivery['status']}"
                )
            uow.record(
                DeliveryReplayed(
                    delivery_id=delivery_id,
                    event_id=delivery["event_id"],
                    subscriber=delivery["subscriber"],
                )
            )
            replayed = store.get_delivery(uow.conn, delivery_id)
            uow.commit()
        assert replayed is not None
        return replayed
