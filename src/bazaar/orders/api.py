"""Order routes: customers read and cancel their orders and request returns; operators ship
the retailer's fulfillments and handle returns. Every response is ``no-store``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse

from bazaar.checkout.schemas import CancelIn
from bazaar.http.cardguard import reject_card_numbers
from bazaar.http.deps import (
    DEFAULT_LIMIT,
    ContainerDep,
    CurrentPrincipal,
    Limit,
    Operator,
    OptionalPrincipal,
)
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.ids import is_valid_id
from bazaar.orders.schemas import (
    FulfillmentOut,
    OrderOut,
    OrderPage,
    ReturnCreate,
    ReturnDecision,
    ReturnOut,
    ReturnReceipt,
    ShipmentIn,
)

router = APIRouter(prefix="/api/v1", tags=["orders"], dependencies=[Depends(reject_card_numbers)])

NO_STORE = {"Cache-Control": "no-store"}
OrderId = Annotated[str, Path(max_length=40)]
ItemId = Annotated[str, Path(max_length=40)]
OrderToken = Annotated[str | None, Header(alias="Order-Token", max_length=200)]


def _json(body: object, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


@router.get("/orders", response_model=OrderPage, summary="My orders (customer); all (staff)")
def list_orders(
    c: ContainerDep, who: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> JSONResponse:
    if cursor is not None and not is_valid_id(cursor, "ord"):
        raise ValidationFailed.on("query.cursor", "Not a cursor from this list", "invalid")
    views = c.orders.list_orders(who, after_id=cursor, limit=limit + 1)
    page = views[:limit]
    out = OrderPage(
        items=[OrderOut.of(v) for v in page],
        next_cursor=page[-1].order.id if len(views) > limit else None,
    )
    return _json(out.model_dump(mode="json"))


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="One order (its customer, staff, or a guest with the Order-Token header)",
)
def get_order(
    order_id: OrderId, c: ContainerDep, who: OptionalPrincipal, order_token: OrderToken = None
) -> JSONResponse:
    return _json(OrderOut.of(c.orders.view(who, order_id, order_token)).model_dump(mode="json"))


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    summary="Cancel before shipment: stock released, payment voided or refunded",
)
def cancel_order(
    order_id: OrderId,
    c: ContainerDep,
    who: OptionalPrincipal,
    body: CancelIn | None = None,
    order_token: OrderToken = None,
) -> JSONResponse:
    reason = body.reason if body else "customer_request"
    c.orders.cancel(who, order_id, reason=reason, access_token=order_token)
    return _json(OrderOut.of(c.orders.view(who, order_id, order_token)).model_dump(mode="json"))


@router.post(
    "/orders/{order_id}/returns",
    status_code=201,
    response_model=ReturnOut,
    summary="Request a return of shipped units",
)
def request_return(
    order_id: OrderId,
    body: ReturnCreate,
    c: ContainerDep,
    who: OptionalPrincipal,
    order_token: OrderToken = None,
) -> JSONResponse:
    request = c.orders.request_return(
        who,
        order_id,
        [line.to_return_line() for line in body.lines],
        reason=body.reason,
        access_token=order_token,
    )
    return _json(ReturnOut.of(request).model_dump(mode="json"), 201)


# --- operator: the retailer's fulfillments and returns ----------------------------------------


@router.post(
    "/admin/fulfillments/{fulfillment_id}/ship",
    response_model=FulfillmentOut,
    summary="Record a shipment of a fulfillment order (operator)",
)
def ship_fulfillment(
    fulfillment_id: ItemId, body: ShipmentIn, c: ContainerDep, who: Operator
) -> JSONResponse:
    f = c.orders.ship(
        who,
        fulfillment_id,
        lines=[x.to_domain() for x in body.lines] if body.lines is not None else None,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        shipment_id=body.shipment_id,
    )
    return _json(FulfillmentOut.of(f).model_dump(mode="json"))


@router.post(
    "/admin/fulfillments/{fulfillment_id}/deliver",
    response_model=FulfillmentOut,
    summary="Mark a shipped fulfillment order delivered (operator)",
)
def deliver_fulfillment(fulfillment_id: ItemId, c: ContainerDep, who: Operator) -> JSONResponse:
    return _json(
        FulfillmentOut.of(c.orders.mark_delivered(who, fulfillment_id)).model_dump(mode="json")
    )


@router.post("/admin/returns/{return_id}/approve", response_model=ReturnOut, summary="Operator")
def approve_return(return_id: ItemId, c: ContainerDep, who: Operator) -> JSONResponse:
    return _json(
        ReturnOut.of(c.orders.decide_return(who, return_id, approve=True)).model_dump(mode="json")
    )


@router.post("/admin/returns/{return_id}/reject", response_model=ReturnOut, summary="Operator")
def reject_return(
    return_id: ItemId, body: ReturnDecision, c: ContainerDep, who: Operator
) -> JSONResponse:
    if not body.reason.strip():
        raise ValidationFailed.on("body.reason", "Say why the return is rejected", "required")
    r = c.orders.decide_return(who, return_id, approve=False, reason=body.reason)
    return _json(ReturnOut.of(r).model_dump(mode="json"))


@router.post(
    "/admin/returns/{return_id}/receive",
    response_model=ReturnOut,
    summary="The goods arrived: restock and refund (operator)",
)
def receive_return(
    return_id: ItemId, body: ReturnReceipt, c: ContainerDep, who: Operator
) -> JSONResponse:
    r = c.orders.receive_return(who, return_id, body.restock)
    return _json(ReturnOut.of(r).model_dump(mode="json"))
