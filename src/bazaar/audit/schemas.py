"""Audit log and delivery view models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bazaar.kernel.events import StoredEvent


class EventOut(BaseModel):
    id: str
    type: str
    subject_type: str
    subject_id: str
    actor_type: str
    actor_id: str | None
    request_id: str | None
    occurred_at: datetime
    payload: dict[str, Any]

    @classmethod
    def of(cls, event: StoredEvent) -> EventOut:
        return cls(
            id=event.id,
            type=event.type,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            actor_type=event.actor_type,
            actor_id=event.actor_id,
            request_id=event.request_id,
            occurred_at=event.occurred_at,
            payload=event.payload,
        )


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = None


class AttemptOut(BaseModel):
    attempt: int
    started_at: datetime
    duration_ms: int
    ok: bool
    status_code: int | None
    error: str | None
    response_excerpt: str | None


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    subscriber: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    history: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None
