"""Audit events and filters. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bazaar.kernel.events import Event


@dataclass(frozen=True)
class EventFilter:
    type: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    actor_id: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    subscriber: str | None = None
    event_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeliveryReplayed(Event):
    """An operator sent a dead delivery back to the queue."""

    subject_type = "delivery"
    subject_field = "delivery_id"
    delivery_id: str
    event_id: str
    subscriber: str
