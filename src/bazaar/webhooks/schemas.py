"""Webhook subscription request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.http.schemas import StrictModel
from bazaar.webhooks.model import Subscription


class WebhookCreate(StrictModel):
    url: Annotated[
        str, Field(min_length=8, max_length=2048, examples=["https://erp.example.com/bazaar"])
    ]
    event_types: Annotated[
        list[Annotated[str, Field(max_length=80)]],
        Field(min_length=1, max_length=100, examples=[["ProductCreated"]]),
    ]
    description: Annotated[str, Field(max_length=200)] = ""
    owner_type: Annotated[str | None, Field(description="Operators only")] = None
    owner_id: Annotated[str | None, Field(max_length=40, description="Operators only")] = None


class WebhookOut(BaseModel):
    id: str
    owner_type: str
    owner_id: str
    url: str
    event_types: list[str]
    description: str
    created_at: datetime

    @classmethod
    def of(cls, sub: Subscription) -> WebhookOut:
        return cls(
            id=sub.id,
            owner_type=sub.owner_type,
            owner_id=sub.owner_id,
            url=sub.url,
            event_types=list(sub.event_types),
            description=sub.description,
            created_at=sub.created_at,
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="Signing secret for Bazaar-Signature. Shown once; store it now."
    )


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None = None
