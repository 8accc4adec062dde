"""Schema pieces every context's API shares: strict input models, money, pages."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from bazaar.kernel.money import CURRENCY_EXPONENTS, Money

T = TypeVar("T")


class StrictModel(BaseModel):
    """Request bodies: unknown fields are errors, and strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MoneyModel(BaseModel):
    """Integer minor units plus an ISO 4217 code: ``{"amount": 1299, "currency": "EUR"}``."""

    model_config = ConfigDict(extra="forbid")

    amount: Annotated[StrictInt, Field(description="Integer minor units, e.g. cents")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            raise ValueError(f"Unknown currency {value}")
        return value

    def to_money(self) -> Money:
        return Money(self.amount, self.currency)

    @classmethod
    def of(cls, money: Money) -> MoneyModel:
        return cls(amount=money.amount, currency=money.currency)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page"
    )
