"""Transactional outbox: the event store, the audit log and the delivery queue.

``events`` is append-only (a trigger refuses UPDATE and DELETE on both engines) and doubles as
the audit log: who did what to which subject, when, under which request. ``deliveries`` holds
one row per (event, subscriber); the dispatcher claims due rows, calls the subscriber outside
any transaction and records every attempt in ``delivery_attempts``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.infra.bulk_insert import insert_rows
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.events import Actor, Event, StoredEvent
from bazaar.kernel.ids import new_ids

PENDING = "pending"
IN_FLIGHT = "in_flight"
DELIVERED = "delivered"
DEAD = "dead"
DELIVERY_STATUSES = (PENDING, IN_FLIGHT, DELIVERED, DEAD)

events_table = sa.Table(
    "events",
    metadata,
    IdColumn(),
    sa.Column("type", sa.String(80), nullable=False),
    sa.Column("subject_type", sa.String(40), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("actor_type", sa.String(20), nullable=False),
    sa.Column("actor_id", sa.String(64)),
    sa.Column("request_id", sa.String(64)),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Index(None, "type", "id"),
    sa.Index(None, "subject_type", "subject_id", "id"),
    sa.Index(None, "actor_id", "id"),
)

deliveries_table = sa.Table(
    "deliveries",
    metadata,
    IdColumn(),
    sa.Column("event_id", sa.String(40), sa.ForeignKey("events.id"), nullable=False),
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("subscriber", sa.String(120), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("lease_token", sa.String(40)),
    sa.Column("lease_expires_at", UtcDateTime()),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime()),
    sa.UniqueConstraint("event_id", "subscriber"),
    sa.CheckConstraint(
        "status IN ('pending', 'in_flight', 'delivered', 'dead')", name="status_known"
    ),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "subscriber", "status"),
)

delivery_attempts_table = sa.Table(
    "delivery_attempts",
    metadata,
    IdColumn(),
    sa.Column(
        "delivery_id",
        sa.String(40),
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("response_excerpt", sa.Text),
)

processed_messages_table = sa.Table(
    "processed_messages",
    metadata,
    sa.Column("consumer", sa.String(120), primary_key=True),
    sa.Column("event_id", sa.String(40), primary_key=True),
    sa.Column("processed_at", UtcDateTime(), nullable=False),
)


class SubscriberResolver(Protocol):
    """Names the subscribers of each new event (``handler:…``, ``webhook:…``).

    Called once per commit with all its events, and answers one list per event in the same
    order, so a resolver that queries does so once per commit rather than once per event.
    """

    def subscribers(self, conn: Connection, events: Sequence[Event]) -> list[list[str]]: ...


@dataclass(frozen=True)
class Claim:
    """A delivery leased to one dispatcher until ``lease_expires_at``."""

    delivery_id: str
    subscriber: str
    attempt: int
    lease_token: str
    event: StoredEvent


def append_events(
    conn: Connection,
    events: Sequence[Event],
    *,
    actor: Actor,
    request_id: str | None,
    now: datetime,
    resolvers: Iterable[SubscriberResolver],
) -> list[str]:
    """Write events and their deliveries in the caller's transaction; return the event ids."""
    if not events:
        return []
    per_resolver = [resolver.subscribers(conn, events) for resolver in resolvers]
    event_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    event_ids = new_ids("evt", len(events))
    for index, event in enumerate(events):
        event_id = event_ids[index]
        event_rows.append(
            {
                "id": event_id,
                "type": event.type_name(),
                "subject_type": event.subject_type,
                "subject_id": event.subject_id(),
                "actor_type": actor.type,
                "actor_id": actor.id,
                "request_id": request_id,
                "occurred_at": now,
                "payload": event.payload(),
            }
        )
        seen: set[str] = set()
        for answers in per_resolver:
            for subscriber in answers[index]:
                if subscriber in seen:
                    continue
                seen.add(subscriber)
                delivery_rows.append(
                    {
                        "id": "",  # numbered below, all in one go
                        "event_id": event_id,
                        "event_type": event.type_name(),
                        "subscriber": subscriber,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    for row, delivery_id in zip(delivery_rows, new_ids("dlv", len(delivery_rows)), strict=True):
        row["id"] = delivery_id
    insert_rows(conn, events_table, event_rows)
    insert_rows(conn, deliveries_table, delivery_rows)
    return event_ids


def mark_processed(conn: Connection, consumer: str, event_id: str, now: datetime) -> bool:
    """Record that ``consumer`` handled ``event_id``; False if it already had (a redelivery)."""
    exists = conn.execute(
        sa.select(sa.literal(1)).where(
            processed_messages_table.c.consumer == consumer,
            processed_messages_table.c.event_id == event_id,
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(
        processed_messages_table.insert().values(
            consumer=consumer, event_id=event_id, processed_at=now
        )
    )
    return True


def row_to_event(row: RowMapping) -> StoredEvent:
    return StoredEvent(
        id=row["id"],
        type=row["type"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        payload=row["payload"],
        occurred_at=row["occurred_at"],
        actor_type=row["actor_type"],
        actor_id=row["actor_id"],
        request_id=row["request_id"],
    )


def envelope(event: StoredEvent) -> dict[str, Any]:
    """The JSON document webhook subscribers and the NATS sink receive for an event."""
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "actor": {"type": event.actor_type, "id": event.actor_id},
        "data": event.payload,
    }


def envelope_bytes(event: StoredEvent) -> bytes:
    """:func:`envelope` as compact JSON, byte-identical on every attempt."""
    return json.dumps(envelope(event), separators=(",", ":"), sort_keys=True).encode()


def replay_delivery(conn: Connection, delivery_id: str, now: datetime) -> bool:
    """Put a dead delivery back in the queue with a fresh attempt budget."""
    d = deliveries_table
    result = conn.execute(
        d.update()
        .where(d.c.id == delivery_id, d.c.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=now, updated_at=now)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    in_flight: int
    dead: int
    oldest_due_age_s: float


def outbox_stats(conn: Connection, now: datetime) -> OutboxStats:
    """Queue depth by status and the age of the oldest due delivery (the outbox lag)."""
    d = deliveries_table
    counts: dict[str, int] = dict(
        conn.execute(
            sa.select(d.c.status, sa.func.count())
            .where(d.c.status.in_((PENDING, IN_FLIGHT, DEAD)))
            .group_by(d.c.status)
        ).all()
    )
    oldest = conn.execute(
        sa.select(sa.func.min(d.c.next_attempt_at)).where(
            d.c.status == PENDING, d.c.next_attempt_at <= now
        )
    ).scalar()
    if isinstance(oldest, str):  # SQLite returns aggregate results untyped
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=now.tzinfo)
    lag = (now - oldest).total_seconds() if oldest is not None else 0.0
    return OutboxStats(
        pending=int(counts.get(PENDING, 0)),
        in_flight=int(counts.get(IN_FLIGHT, 0)),
        dead=int(counts.get(DEAD, 0)),
        oldest_due_age_s=max(lag, 0.0),
    )


def purge_delivered(conn: Connection, older_than: datetime) -> int:
    """Delete delivered deliveries (and their attempts) past retention; events stay forever."""
    d = deliveries_table
    old = sa.select(d.c.id).where(d.c.status == DELIVERED, d.c.delivered_at < older_than)
    conn.execute(
        delivery_attempts_table.delete().where(delivery_attempts_table.c.delivery_id.in_(old))
    )
    result = conn.execute(d.delete().where(d.c.status == DELIVERED, d.c.delivered_at < older_than))
    return int(result.rowcount)
