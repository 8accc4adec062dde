"""Customer groups, which price lists and promotions can be limited to, and membership."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.http.schemas import StrictModel
from bazaar.pricing.schemas.fields import Code, Label


class CustomerGroupIn(StrictModel):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", examples=["business"])]
    name: Label


class CustomerGroupOut(BaseModel):
    code: str
    name: str
    members: int
    created_at: datetime


class GroupAssignmentIn(StrictModel):
    group: Code | None = Field(description="A customer group's code; null: no group")


class GroupAssignmentOut(BaseModel):
    customer_id: str
    group: str | None
