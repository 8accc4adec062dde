"""Request bodies of checkout: placing an order from a cart."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bazaar.checkout.addresses import Address
from bazaar.checkout.placement import OrderDraft


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=120)]
    line1: Annotated[str, Field(min_length=1, max_length=200)]
    line2: Annotated[str | None, Field(max_length=200)] = None
    postcode: Annotated[str, Field(max_length=16)] = ""
    city: Annotated[str, Field(min_length=1, max_length=120)]
    country: Annotated[str, Field(min_length=2, max_length=2, examples=["NL"])]
    phone: Annotated[str | None, Field(max_length=32)] = None

    def to_address(self) -> Address:
        return Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            postcode=self.postcode,
            city=self.city,
            country=self.country,
            phone=self.phone,
        )


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            description="A payment token from the payment provider; never a card number",
            examples=["tok_success"],
        ),
    ]


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cart_id: Annotated[str, Field(max_length=40)]
    email: Annotated[str, Field(max_length=254)]
    shipping_address: AddressIn
    billing_address: AddressIn | None = None
    payment: PaymentIn

    def to_draft(self) -> OrderDraft:
        return OrderDraft(
            cart_id=self.cart_id,
            email=self.email,
            shipping_address=self.shipping_address.to_address(),
            billing_address=self.billing_address.to_address() if self.billing_address else None,
            payment_token=self.payment.token,
        )


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=200)] = "customer_request"
