"""Read queries over the outbox tables for the audit log and the delivery views."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.audit.model import DeliveryFilter, EventFilter
from bazaar.infra.outbox import (
    deliveries_table,
    delivery_attempts_table,
    events_table,
    row_to_event,
)
from bazaar.kernel.events import StoredEvent


def list_events(
    conn: Connection, f: EventFilter, before_id: str | None, limit: int
) -> list[StoredEvent]:
    """Newest first; every filter uses an index that starts with its column."""
    e = events_table
    query = sa.select(e).order_by(e.c.id.desc()).limit(limit)
    for column, value in (
        (e.c.type, f.type),
        (e.c.subject_type, f.subject_type),
        (e.c.subject_id, f.subject_id),
        (e.c.actor_id, f.actor_id),
        (e.c.request_id, f.request_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.since is not None:
        query = query.where(e.c.occurred_at >= f.since)
    if f.until is not None:
        query = query.where(e.c.occurred_at < f.until)
    if before_id is not None:
        query = query.where(e.c.id < before_id)
    return [row_to_event(row) for row in conn.execute(query).mappings()]


def get_event(conn: Connection, event_id: str) -> StoredEvent | None:
    row = conn.execute(sa.select(events_table).where(events_table.c.id == event_id)).mappings()
    found = row.first()
    return row_to_event(found) if found else None


def list_deliveries(
    conn: Connection, f: DeliveryFilter, before_id: str | None, limit: int
) -> list[dict[str, Any]]:
    d = deliveries_table
    query = sa.select(d).order_by(d.c.id.desc()).limit(limit)
    if f.status is not None:
        query = query.where(d.c.status == f.status)
    if f.subscriber is not None:
        query = query.where(d.c.subscriber == f.subscriber)
    if f.event_type is not None:
        query = query.where(d.c.event_type == f.event_type)
    if before_id is not None:
        query = query.where(d.c.id < before_id)
    return [dict(row) for row in conn.execute(query).mappings()]


def get_delivery(conn: Connection, delivery_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(sa.select(deliveries_table).where(deliveries_table.c.id == delivery_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def attempts_for(conn: Connection, delivery_id: str) -> list[dict[str, Any]]:
    a = delivery_attempts_table
    # Chronological: a replay restarts attempt numbers at 1, so they do not order the history.
    query = sa.select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.started_at, a.c.id)
    return [dict(row) for row in conn.execute(query).mappings()]
