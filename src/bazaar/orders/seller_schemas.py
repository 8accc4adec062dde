"""Seller fulfillment requests and responses: what a seller sends and sees."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.http.schemas import MoneyModel, StrictModel
from bazaar.orders.routing import SellerFulfillmentView
from bazaar.orders.schemas import LineQuantityIn, ShipmentOut


class SellerLineOut(BaseModel):
    line_id: str
    offer_id: str
    product_id: str
    sku: str
    title: str
    quantity: int
    shipped: int
    rejected: int
    open: int = Field(description="Units still to ship (0 once cancelled)")
    unit_price: MoneyModel
    discount: MoneyModel
    total: MoneyModel = Field(description="What the customer paid for the line, tax included")


class ShipToOut(BaseModel):
    """The recipient: enough to label a parcel. The customer's email is never shown."""

    name: str | None
    line1: str | None
    line2: str | None
    postcode: str | None
    city: str | None
    country: str | None
    phone: str | None


class SellerFulfillmentOut(BaseModel):
    id: str
    order_id: str
    status: str
    reason: str | None = Field(description="Why it was rejected or cancelled")
    accept_by: datetime | None = Field(
        description="Accept before this or it is cancelled and refunded (seller_sla_expired)"
    )
    lines: list[SellerLineOut]
    shipping: MoneyModel = Field(description="The customer's shipping charge for this part")
    shipments: list[ShipmentOut]
    ship_to: ShipToOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: SellerFulfillmentView) -> SellerFulfillmentOut:
        f = view.fulfillment
        open_units = {fl.line_id: fl.open for fl in f.lines} if f.open_units else {}
        lines = []
        for fl in f.lines:
            line = view.lines[fl.line_id]
            lines.append(
                SellerLineOut(
                    line_id=fl.line_id,
                    offer_id=fl.offer_id,
                    product_id=line.product_id,
                    sku=fl.sku,
                    title=view.titles.get(fl.offer_id, fl.sku),
                    quantity=fl.quantity,
                    shipped=fl.shipped,
                    rejected=fl.rejected,
                    open=open_units.get(fl.line_id, 0),
                    unit_price=MoneyModel.of(line.unit_price),
                    discount=MoneyModel.of(line.discount),
                    total=MoneyModel.of(line.total),
                )
            )
        return cls(
            id=f.id,
            order_id=f.order_id,
            status=f.status.value,
            reason=f.reason,
            accept_by=f.accept_by,
            lines=lines,
            shipping=MoneyModel.of(f.shipping),
            shipments=[ShipmentOut.of(s) for s in f.shipments],
            ship_to=ShipToOut(**view.ship_to),
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class SellerFulfillmentPage(BaseModel):
    items: list[SellerFulfillmentOut]
    next_cursor: str | None


class SellerRejectIn(StrictModel):
    lines: Annotated[
        list[LineQuantityIn] | None,
        Field(max_length=200, description="Omit to reject every unit still open"),
    ] = None
    reason: Annotated[str, Field(min_length=1, max_length=200, examples=["out_of_stock"])]
    release_stock: bool = Field(
        False,
        description="The units are on the shelf after all: put them back on sale instead of "
        "writing them off",
    )


class SellerShipmentIn(StrictModel):
    carrier: Annotated[str, Field(min_length=1, max_length=60, examples=["PostNL"])]
    tracking_number: Annotated[str, Field(min_length=1, max_length=80, examples=["3SABC123"])]
    lines: Annotated[
        list[LineQuantityIn] | None,
        Field(max_length=200, description="Units per order line; omit to ship everything open"),
    ] = None
