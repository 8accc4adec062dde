"""Domain events: past-tense facts that services record in a unit of work.

Every concrete event is a frozen dataclass subclassing :class:`Event`; subclassing registers
it under its class name (``ProductCreated``), which is the event's ``type`` in the outbox, the
audit log, webhooks and the NATS subject. Renaming an event class is therefore a breaking
change for subscribers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

JSONValue = Any

_REGISTRY: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event.

    Subclasses set ``subject_type`` (the aggregate kind, e.g. ``"product"``) and
    ``subject_field`` (the field holding the aggregate id). ``public`` events may reach any
    webhook subscriber; other events reach only operators' subscriptions and the owners named
    by :meth:`audience`.
    """

    subject_type: ClassVar[str] = ""
    subject_field: ClassVar[str] = ""
    public: ClassVar[bool] = False

    def __init_subclass__(cls, *, abstract: bool = False, **kwargs: Any) -> None:
        """Register the event type; ``abstract=True`` marks a shared base that is never
        recorded itself (``class ProductEvent(Event, abstract=True)``)."""
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        name = cls.__name__
        existing = _REGISTRY.get(name)
        if existing is not None and existing.__module__ != cls.__module__:
            raise TypeError(f"event type {name} is defined twice")
        _REGISTRY[name] = cls

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def subject_id(self) -> str:
        return str(getattr(self, self.subject_field))

    def audience(self) -> tuple[str, ...]:
        """Owner references (``"seller:sel_…"``) whose webhook subscriptions may see this event."""
        return ()

    def payload(self) -> dict[str, JSONValue]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class Actor:
    """Who caused a change, as written to the audit log."""

    type: str  # "user", "api_key", "system"
    id: str | None = None
    role: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls("system", name, None)


@dataclass(frozen=True)
class StoredEvent:
    """An event as persisted in the outbox and handed to subscribers."""

    id: str
    type: str
    subject_type: str
    subject_id: str
    payload: dict[str, JSONValue]
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    request_id: str | None


def event_class(type_name: str) -> type[Event] | None:
    return _REGISTRY.get(type_name)


def known_event_types() -> list[str]:
    return sorted(_REGISTRY)


def to_jsonable(value: object) -> JSONValue:
    """Convert event field values to JSON: money as ``{"amount", "currency"}``, times as ISO."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value
