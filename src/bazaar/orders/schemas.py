"""Order responses: the order with its lines, shipping, fulfillments, payment and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from bazaar.http.schemas import MoneyModel
from bazaar.orders.events import LineQuantity, ReturnLine
from bazaar.orders.fulfillment import FulfillmentOrder, Shipment
from bazaar.orders.returns import ReturnRequest
from bazaar.orders.service import OrderView
from bazaar.orders.timeline import TimelineEntry
from bazaar.payments.model import Payment


class OrderLineOut(BaseModel):
    id: str
    offer_id: str
    product_id: str
    sku: str
    title: str
    fulfiller_id: str
    quantity: int
    unit_price: MoneyModel
    discount: MoneyModel
    tax: MoneyModel
    tax_rate: str
    total: MoneyModel
    refunded_quantity: int


class ShippingOut(BaseModel):
    fulfiller_id: str
    amount: MoneyModel
    tax: MoneyModel
    total: MoneyModel


class ShipmentOut(BaseModel):
    id: str
    carrier: str | None
    tracking_number: str | None
    lines: list[dict[str, Any]]

    @classmethod
    def of(cls, s: Shipment) -> ShipmentOut:
        return cls(
            id=s.id,
            carrier=s.carrier,
            tracking_number=s.tracking_number,
            lines=[{"line_id": q.line_id, "quantity": q.quantity} for q in s.lines],
        )


class FulfillmentOut(BaseModel):
    id: str
    fulfiller_id: str
    status: str
    lines: list[dict[str, Any]]
    shipments: list[ShipmentOut]
    reason: str | None = Field(
        None, description="Why it was rejected or cancelled, e.g. seller_sla_expired"
    )

    @classmethod
    def of(cls, f: FulfillmentOrder) -> FulfillmentOut:
        return cls(
            id=f.id,
            fulfiller_id=f.fulfiller_id,
            status=f.status.value,
            lines=[
                {
                    "line_id": x.line_id,
                    "sku": x.sku,
                    "quantity": x.quantity,
                    "shipped": x.shipped,
                    "rejected": x.rejected,
                }
                for x in f.lines
            ],
            shipments=[ShipmentOut.of(s) for s in f.shipments],
            reason=f.reason,
        )


class PaymentOut(BaseModel):
    status: str
    amount: MoneyModel
    captured: MoneyModel
    refunded: MoneyModel
    decline_code: str | None
    action_url: str | None = Field(None, description="Open this to complete 3-D Secure")

    @classmethod
    def of(cls, p: Payment) -> PaymentOut:
        return cls(
            status=p.status.value,
            amount=MoneyModel.of(p.amount),
            captured=MoneyModel.of(p.captured),
            refunded=MoneyModel.of(p.refunded),
            decline_code=p.decline_code,
            action_url=p.action.url if p.action else None,
        )


class ReturnOut(BaseModel):
    id: str
    order_id: str
    status: str
    reason: str
    lines: list[dict[str, Any]]
    refunded: MoneyModel | None
    rejection_reason: str | None

    @classmethod
    def of(cls, r: ReturnRequest) -> ReturnOut:
        return cls(
            id=r.id,
            order_id=r.order_id,
            status=r.status.value,
            reason=r.reason,
            lines=[
                {"line_id": x.line_id, "quantity": x.quantity, "restock": x.restock}
                for x in r.lines
            ],
            refunded=MoneyModel.of(r.refunded) if r.refunded is not None else None,
            rejection_reason=r.rejection_reason,
        )


class HistoryOut(BaseModel):
    """One thing that happened to the order, as its customer may know it."""

    type: str = Field(examples=["FulfillmentCancelled"])
    occurred_at: datetime
    fulfillment_id: str | None = None
    reason: str | None = Field(None, examples=["seller_sla_expired"])
    amount: MoneyModel | None = None
    carrier: str | None = None
    tracking_number: str | None = None

    @classmethod
    def of(cls, entry: TimelineEntry) -> HistoryOut:
        return cls(
            type=entry.type,
            occurred_at=entry.occurred_at,
            fulfillment_id=entry.fulfillment_id,
            reason=entry.reason,
            amount=MoneyModel.of(entry.amount) if entry.amount else None,
            carrier=entry.carrier,
            tracking_number=entry.tracking_number,
        )


class OrderOut(BaseModel):
    id: str
    status: str
    progress: str
    email: str
    customer_id: str | None
    currency: str
    prices_include_tax: bool
    lines: list[OrderLineOut]
    shipping: list[ShippingOut]
    subtotal: MoneyModel
    discount: MoneyModel
    shipping_total: MoneyModel
    tax: MoneyModel
    grand_total: MoneyModel
    refunded_total: MoneyModel
    shipping_address: dict[str, Any]
    fulfillments: list[FulfillmentOut]
    payment: PaymentOut | None
    returns: list[ReturnOut]
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    history: list[HistoryOut] = Field(
        default_factory=list,
        description="What happened so far, oldest first (filled by GET /api/v1/orders/{id})",
    )
    access_token: str | None = Field(
        None, description="Guests only, once: send it as the Order-Token header to read the order"
    )

    @classmethod
    def of(cls, view: OrderView, access_token: str | None = None) -> OrderOut:
        o = view.order
        return cls(
            id=o.id,
            status=o.status.value,
            progress=o.progress.value,
            email=o.email,
            customer_id=o.customer_id,
            currency=o.currency,
            prices_include_tax=o.prices_include_tax,
            lines=[
                OrderLineOut(
                    id=x.id,
                    offer_id=x.offer_id,
                    product_id=x.product_id,
                    sku=x.sku,
                    title=view.titles.get(x.offer_id, x.sku),
                    fulfiller_id=x.fulfiller_id,
                    quantity=x.quantity,
                    unit_price=MoneyModel.of(x.unit_price),
                    discount=MoneyModel.of(x.discount),
                    tax=MoneyModel.of(x.tax),
                    tax_rate=str(x.tax_rate),
                    total=MoneyModel.of(x.total),
                    refunded_quantity=x.refunded_quantity,
                )
                for x in o.lines
            ],
            shipping=[
                ShippingOut(
                    fulfiller_id=s.fulfiller_id,
                    amount=MoneyModel.of(s.amount),
                    tax=MoneyModel.of(s.tax),
                    total=MoneyModel.of(s.total),
                )
                for s in o.shipping
            ],
            subtotal=MoneyModel.of(o.subtotal),
            discount=MoneyModel.of(o.discount),
            shipping_total=MoneyModel.of(o.shipping_total),
            tax=MoneyModel.of(o.tax),
            grand_total=MoneyModel.of(o.grand_total),
            refunded_total=MoneyModel.of(o.refunded_total),
            shipping_address=dict(view.shipping_address),
            fulfillments=[FulfillmentOut.of(f) for f in view.fulfillments],
            payment=PaymentOut.of(view.payment) if view.payment else None,
            returns=[ReturnOut.of(r) for r in view.returns],
            cancel_reason=o.cancel_reason,
            created_at=view.created_at,
            updated_at=view.updated_at,
            history=[HistoryOut.of(entry) for entry in view.history],
            access_token=access_token,
        )


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class LineQuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_id: Annotated[str, Field(max_length=40)]
    quantity: Annotated[int, Field(ge=1, le=10_000)]

    def to_domain(self) -> LineQuantity:
        return LineQuantity(self.line_id, self.quantity)


class ReturnLineIn(LineQuantityIn):
    restock: bool = True

    def to_return_line(self) -> ReturnLine:
        return ReturnLine(self.line_id, self.quantity, self.restock)


class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ReturnDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=500)] = ""


class ReturnReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restock: dict[str, bool] | None = Field(
        None, description="Order line id -> put back on sale, overriding the request"
    )


class ShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipment_id: Annotated[str | None, Field(max_length=40)] = None
    carrier: Annotated[str | None, Field(max_length=60)] = None
    tracking_number: Annotated[str | None, Field(max_length=80)] = None
    lines: Annotated[list[LineQuantityIn] | None, Field(max_length=200)] = None
