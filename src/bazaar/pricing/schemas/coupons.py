"""Coupon codes for promotions, one at a time or generated in batches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from bazaar.http.schemas import StrictModel
from bazaar.pricing.coupons import Coupon
from bazaar.pricing.schemas.fields import Id, Moment


class CouponLimits(StrictModel):
    starts_at: Moment | None = None
    expires_at: Moment | None = Field(None, description="Works until just before this")
    usage_limit: StrictInt | None = Field(None, description="Uses over all customers")
    usage_limit_per_customer: StrictInt | None = None


class CouponIn(CouponLimits):
    code: Annotated[str, Field(min_length=1, max_length=100, examples=["WELCOME10"])]
    promotion_id: Id

    def to_model(self) -> Coupon:
        """The pure coupon, its code normalised (upper case, no spaces or hyphens)."""
        return Coupon(
            self.code,
            self.promotion_id,
            self.starts_at,
            self.expires_at,
            self.usage_limit,
            self.usage_limit_per_customer,
        )


class CouponBatchIn(CouponLimits):
    """``count`` random codes of ``prefix`` + ``length`` unambiguous characters, each with
    these limits."""

    promotion_id: Id
    count: StrictInt = Field(examples=[500])
    prefix: Annotated[str, Field(max_length=40)] = ""
    length: StrictInt = 10

    def to_coupon(self, code: str, batch_id: str) -> Coupon:
        return Coupon(
            code,
            self.promotion_id,
            self.starts_at,
            self.expires_at,
            self.usage_limit,
            self.usage_limit_per_customer,
            batch_id,
        )


class CouponOut(BaseModel):
    code: str
    promotion_id: str
    batch_id: str | None
    starts_at: datetime | None
    expires_at: datetime | None
    usage_limit: int | None
    usage_limit_per_customer: int | None
    uses: int
    created_at: datetime


class CouponPage(BaseModel):
    items: list[CouponOut]
    next_cursor: str | None = None


class CouponBatchOut(BaseModel):
    batch_id: str
    promotion_id: str
    count: int
    codes: list[str]
