"""Webhook subscription rules: who may receive which events. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.events import Event, known_event_types

OPERATOR_OWNER = "operator"
OWNER_TYPES = frozenset({"seller", "brand", "partner", OPERATOR_OWNER})
ALL_EVENTS = "*"
MAX_EVENT_TYPES = 100


@dataclass(frozen=True)
class Subscription:
    id: str
    owner_type: str
    owner_id: str
    url: str
    secret: str
    event_types: tuple[str, ...]
    description: str
    active: bool
    created_at: datetime

    @property
    def owner_ref(self) -> str:
        return f"{self.owner_type}:{self.owner_id}"

    def wants(self, event: Event) -> bool:
        """True when this subscription asked for ``event`` and may see it.

        Operators' subscriptions see every event; a seller's, brand's or partner's see public
        events and events that name them in their audience, so no party learns of another's
        orders or stock.
        """
        if ALL_EVENTS not in self.event_types and event.type_name() not in self.event_types:
            return False
        if self.owner_type == OPERATOR_OWNER or event.public:
            return True
        return self.owner_ref in event.audience()


def validate_event_types(event_types: list[str]) -> tuple[str, ...]:
    """Deduplicate and check event type names against the registry (``*`` means all)."""
    if not event_types:
        raise ValidationFailed.on("event_types", "Name at least one event type, or '*'")
    if len(event_types) > MAX_EVENT_TYPES:
        raise ValidationFailed.on("event_types", f"At most {MAX_EVENT_TYPES} event types")
    known = set(known_event_types())
    errors = [
        FieldError(f"event_types.{i}", f"Unknown event type {name!r}", "unknown")
        for i, name in enumerate(event_types)
        if name != ALL_EVENTS and name not in known
    ]
    if errors:
        raise ValidationFailed("Unknown event types", errors=errors)
    return tuple(sorted(set(event_types)))


@dataclass(frozen=True, kw_only=True)
class WebhookSubscribed(Event):
    subject_type = "webhook_subscription"
    subject_field = "subscription_id"
    subscription_id: str
    owner_type: str
    owner_id: str
    url: str
    event_types: list[str]

    def audience(self) -> tuple[str, ...]:
        return (f"{self.owner_type}:{self.owner_id}",)


@dataclass(frozen=True, kw_only=True)
class WebhookUnsubscribed(Event):
    subject_type = "webhook_subscription"
    subject_field = "subscription_id"
    subscription_id: str
    owner_type: str
    owner_id: str

    def audience(self) -> tuple[str, ...]:
        return (f"{self.owner_type}:{self.owner_id}",)
