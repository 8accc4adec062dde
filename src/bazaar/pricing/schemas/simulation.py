"""A cart to price as some shopper would see it, for staff checking their rules."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from bazaar.http.schemas import StrictModel
from bazaar.pricing.schemas.fields import Code, Currency, Id, Moment


class SimulationLineIn(StrictModel):
    offer_id: Id
    quantity: StrictInt = Field(1, examples=[12])


class SimulationIn(StrictModel):
    """A cart to price as a shopper would see it; nothing is recorded."""

    lines: Annotated[list[SimulationLineIn], Field(min_length=1, max_length=100)]
    currency: Currency | None = Field(None, description="Default: the store's currency")
    channel_id: Id = "web"
    customer_group: Code | None = Field(None, description="Null: a shopper in no group")
    customer_id: Id | None = Field(None, description="Assigns experiment variants")
    cart_id: Id | None = Field(None, description="Assigns experiment variants of a guest")
    at: Moment | None = Field(None, description="Price as of this moment; default now")
    coupon_codes: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=10)] = []
    first_order: StrictBool = False
