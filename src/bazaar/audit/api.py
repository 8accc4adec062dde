"""Operator routes: the audit log, the delivery queue and its dead letters."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from bazaar.audit.model import DeliveryFilter, EventFilter
from bazaar.audit.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EventOut,
    EventPage,
)
from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator

router = APIRouter(prefix="/api/v1/admin", tags=["operator"])

Text = Annotated[str | None, Query(max_length=120)]


@router.get("/events", response_model=EventPage, summary="Audit log, newest first (operator)")
def list_events(
    who: Operator,
    c: ContainerDep,
    type: Text = None,
    subject_type: Text = None,
    subject_id: Text = None,
    actor_id: Text = None,
    request_id: Text = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> EventPage:
    f = EventFilter(type, subject_type, subject_id, actor_id, request_id, since, until)
    page = c.audit.list_events(who, f, limit, cursor)
    return EventPage(items=[EventOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/events/{event_id}", response_model=EventOut, summary="One audit event (operator)")
def get_event(
    event_id: Annotated[str, Path(max_length=40)], who: Operator, c: ContainerDep
) -> EventOut:
    return EventOut.of(c.audit.get_event(who, event_id))


@router.get(
    "/deliveries",
    response_model=DeliveryPage,
    summary="Event deliveries; status=dead is the dead-letter view (operator)",
)
def list_deliveries(
    who: Operator,
    c: ContainerDep,
    status: Literal["pending", "in_flight", "delivered", "dead"] | None = None,
    subscriber: Text = None,
    event_type: Text = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DeliveryPage:
    page = c.audit.list_deliveries(
        who, DeliveryFilter(status, subscriber, event_type), limit, cursor
    )
    return DeliveryPage(
        items=[DeliveryOut.model_validate(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="A delivery and its attempts (operator)",
)
def get_delivery(
    delivery_id: Annotated[str, Path(max_length=40)], who: Operator, c: ContainerDep
) -> DeliveryDetail:
    delivery, attempts = c.audit.get_delivery(who, delivery_id)
    return DeliveryDetail(**delivery, history=[AttemptOut.model_validate(a) for a in attempts])


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    summary="Replay a dead delivery (operator)",
)
def retry_delivery(
    delivery_id: Annotated[str, Path(max_length=40)], who: Operator, c: ContainerDep
) -> DeliveryOut:
    return DeliveryOut.model_validate(c.audit.replay_delivery(who, delivery_id))
