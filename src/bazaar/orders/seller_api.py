"""Seller fulfillment routes: a seller's members and API keys work through the fulfillment
orders routed to it. Reads need the scope ``orders:read``, changes ``fulfillments:write``;
another seller's fulfillment id is a 404 on every route. Every response is ``no-store``.

The seller's status decides first (:mod:`bazaar.sellers.standing`): a suspended seller still
reads and fulfils what was routed to it, a closed one only reads, anyone else gets a 403."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse, Response

from bazaar.http.cardguard import reject_card_numbers
from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit
from bazaar.http.problems import PROBLEM_JSON
from bazaar.identity.model import Principal
from bazaar.infra.idempotency import Claim, Replay, check_key, fingerprint
from bazaar.orders.fulfillment import FulfillmentStatus
from bazaar.orders.routing import SellerFulfillmentView
from bazaar.orders.seller_schemas import (
    SellerFulfillmentOut,
    SellerFulfillmentPage,
    SellerRejectIn,
    SellerShipmentIn,
)
from bazaar.sellers.guards import SellerFulfilling, SellerReading

router = APIRouter(
    prefix="/api/v1/seller",
    tags=["seller fulfillments"],
    dependencies=[Depends(reject_card_numbers)],
)

NO_STORE = {"Cache-Control": "no-store"}
# Reads: any seller but an applicant (closed ones keep their records).
Reader = SellerReading
# Steps: active and suspended sellers (customers of routed orders already paid); not closed.
Fulfiller = SellerFulfilling
FulfillmentId = Annotated[str, Path(max_length=40)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such fulfillment order (or another seller's)"}
}


def _out(view: SellerFulfillmentView) -> dict[str, Any]:
    body: dict[str, Any] = SellerFulfillmentOut.of(view).model_dump(mode="json")
    return body


def _json(body: object) -> JSONResponse:
    return JSONResponse(body, headers=NO_STORE)


@router.get(
    "/fulfillments",
    response_model=SellerFulfillmentPage,
    summary="My fulfillment orders, oldest first (seller; orders:read)",
)
def list_fulfillments(
    c: ContainerDep,
    who: Reader,
    status: Annotated[FulfillmentStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> JSONResponse:
    page = c.routing.list_fulfillments(who, status=status, limit=limit, cursor=cursor)
    return _json({"items": [_out(v) for v in page.items], "next_cursor": page.next_cursor})


@router.get(
    "/fulfillments/{fulfillment_id}",
    response_model=SellerFulfillmentOut,
    responses=NOT_FOUND,
    summary="One of my fulfillment orders (seller; orders:read)",
)
def get_fulfillment(fulfillment_id: FulfillmentId, c: ContainerDep, who: Reader) -> JSONResponse:
    return _json(_out(c.routing.get_fulfillment(who, fulfillment_id)))


@router.post(
    "/fulfillments/{fulfillment_id}/accept",
    response_model=SellerFulfillmentOut,
    responses={**NOT_FOUND, 409: {"description": "Rejected, cancelled, or past accept_by"}},
    summary="Accept before accept_by; accepting again is harmless (fulfillments:write)",
)
def accept_fulfillment(
    fulfillment_id: FulfillmentId, c: ContainerDep, who: Fulfiller
) -> JSONResponse:
    return _json(_out(c.routing.accept(who, fulfillment_id)))


@router.post(
    "/fulfillments/{fulfillment_id}/reject",
    response_model=SellerFulfillmentOut,
    responses=NOT_FOUND,
    summary="Reject lines before shipping them: the customer is refunded (Idempotency-Key)",
)
def reject_fulfillment(
    fulfillment_id: FulfillmentId,
    body: SellerRejectIn,
    c: ContainerDep,
    who: Fulfiller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    lines = [x.to_domain() for x in body.lines] if body.lines is not None else None

    def reject(claim: Claim) -> SellerFulfillmentView:
        return c.routing.reject(
            who,
            fulfillment_id,
            lines,
            reason=body.reason,
            release_stock=body.release_stock,
            claim=claim,
        )

    request = {"reject": fulfillment_id, **body.model_dump(mode="json")}
    return _idempotent(c, who, idempotency_key, request, reject)


@router.post(
    "/fulfillments/{fulfillment_id}/ship",
    response_model=SellerFulfillmentOut,
    responses=NOT_FOUND,
    summary="Record a shipment, partial or whole, of an accepted order (Idempotency-Key)",
)
def ship_fulfillment(
    fulfillment_id: FulfillmentId,
    body: SellerShipmentIn,
    c: ContainerDep,
    who: Fulfiller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    lines = [x.to_domain() for x in body.lines] if body.lines is not None else None

    def ship(claim: Claim) -> SellerFulfillmentView:
        return c.routing.ship(
            who,
            fulfillment_id,
            lines,
            carrier=body.carrier,
            tracking_number=body.tracking_number,
            claim=claim,
        )

    request = {"ship": fulfillment_id, **body.model_dump(mode="json")}
    return _idempotent(c, who, idempotency_key, request, ship)


@router.post(
    "/fulfillments/{fulfillment_id}/deliver",
    response_model=SellerFulfillmentOut,
    responses=NOT_FOUND,
    summary="Everything shipped was delivered; repeating it is harmless (fulfillments:write)",
)
def deliver_fulfillment(
    fulfillment_id: FulfillmentId, c: ContainerDep, who: Fulfiller
) -> JSONResponse:
    return _json(_out(c.routing.deliver(who, fulfillment_id)))


def _idempotent(
    c: ContainerDep,
    who: Principal,
    key: str | None,
    request: dict[str, Any],
    action: Callable[[Claim], SellerFulfillmentView],
) -> Response:
    """Run ``action`` once per key: the same key and body replays the first answer, another
    body is a 422, a concurrent duplicate a 409; a request that failed frees its key."""
    store = c.routing.idempotency
    claim = store.claim(f"seller:{who.id}", check_key(key), fingerprint(request))
    if isinstance(claim, Replay):
        return Response(
            json.dumps(claim.body, separators=(",", ":")).encode(),
            status_code=claim.status,
            media_type=PROBLEM_JSON if claim.status >= 400 else "application/json",
            headers={**NO_STORE, "Idempotent-Replayed": "true"},
        )
    try:
        view = action(claim)
    except Exception:
        store.release(claim)  # the unit of work rolled back: nothing happened under the key
        raise
    out = _out(view)
    store.complete(claim, 200, out)
    return _json(out)
