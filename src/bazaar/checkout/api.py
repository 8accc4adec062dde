"""Checkout routes: place an order from a cart (idempotent), confirm a 3-D Secure payment."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse, Response

from bazaar.checkout.placement import OrderDraft, Placed
from bazaar.checkout.schemas import OrderCreate
from bazaar.http.cardguard import reject_card_numbers
from bazaar.http.deps import ContainerDep, OptionalPrincipal
from bazaar.http.problems import PROBLEM_JSON, problem_body, status_for
from bazaar.infra.idempotency import (
    Claim,
    IdempotencyStore,
    KeyTaken,
    KeyToClaim,
    Replay,
    check_key,
    fingerprint,
)
from bazaar.kernel.errors import DomainError
from bazaar.orders.schemas import OrderOut
from bazaar.orders.service import OrderView

router = APIRouter(
    prefix="/api/v1",
    tags=["checkout"],
    dependencies=[Depends(reject_card_numbers)],
)

NO_STORE = {"Cache-Control": "no-store"}
OrderId = Annotated[str, Path(max_length=40)]


def _scope(who: object, cart_id: str) -> str:
    """Keys are per caller: a user's or API key's id, or for a guest the cart."""
    principal_id = getattr(who, "id", None)
    return f"user:{principal_id}" if principal_id else f"cart:{cart_id}"


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    summary="Place an order from a cart (Idempotency-Key required)",
    description=(
        "Reserves the cart's stock, creates the order and authorizes the payment token. "
        "The same `Idempotency-Key` with the same body replays the first response; with "
        "another body it is a 422; while the first request runs it is a 409. 201: paid or "
        "waiting for 3-D Secure (`payment.action_url`); 202: the payment provider did not "
        "answer, the order completes in the background; 402: declined (stock released); "
        "409: not enough stock (nothing created)."
    ),
    responses={402: {"description": "Payment declined"}, 409: {"description": "Out of stock"}},
)
def place_order(
    body: OrderCreate,
    c: ContainerDep,
    who: OptionalPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    cart_token: Annotated[str | None, Header(alias="Cart-Token", max_length=200)] = None,
) -> Response:
    request = KeyToClaim(
        _scope(who, body.cart_id),
        check_key(idempotency_key),
        fingerprint(body.model_dump(mode="json")),
    )
    store = c.checkout.idempotency
    draft = body.to_draft()
    # The usual case, a key never seen, is claimed in the transaction that creates the order.
    # A stored key, a duplicate that raced this request, or a failure before anything was
    # created is answered through an explicit claim: replay, 409, 422, resume, or the failure.
    try:
        opened = c.checkout.open_order(who, cart_token, draft, request)
    except KeyTaken:
        claim = store.claim(request.scope, request.key, request.fingerprint)
        if isinstance(claim, Replay):
            return _replayed(claim)
        return _place(c, who, draft, cart_token, claim)
    except DomainError:
        # A key stored with the order that made this fail (its cart is ordered now) is
        # visible here: the two committed together.
        if not store.is_stored(request.scope, request.key):
            raise  # nothing was claimed or created: the same key may be retried
        claim = store.claim(request.scope, request.key, request.fingerprint)
        if isinstance(claim, Replay):
            return _replayed(claim)
        if claim.resource_id is not None:  # an attempt created the order and died: finish it
            return _place(c, who, draft, cart_token, claim)
        store.release(claim)
        raise
    return _respond(c, who, opened.claim, lambda: c.checkout.pay_order(opened, _render))


def _place(
    c: ContainerDep, who: OptionalPrincipal, draft: OrderDraft, cart_token: str | None, claim: Claim
) -> Response:
    return _respond(
        c, who, claim, lambda: c.checkout.place_order(who, cart_token, draft, claim, _render)
    )


def _respond(
    c: ContainerDep, who: OptionalPrincipal, claim: Claim, run: Callable[[], Placed]
) -> Response:
    """Run the placement holding ``claim`` and store its outcome for the key."""
    store = c.checkout.idempotency
    try:
        placed = run()
    except DomainError as exc:
        status = status_for(exc)
        problem = {
            **problem_body(status, exc.code, exc.title, exc.detail, errors=exc.errors),
            **exc.extensions,
        }
        if "order_id" in exc.extensions:  # an order exists: this is the key's outcome
            store.complete(claim, status, problem)
        else:
            _release(store, claim)  # nothing was created: the same key may be retried
        raise
    except Exception:
        _release(store, claim)
        raise
    status = 202 if placed.payment_pending else 201
    if placed.responded:
        out = placed.body
    else:
        view = placed.view or c.orders.view(who, placed.order_id, placed.access_token)
        out = _render(view, placed.access_token)
        store.complete(claim, status, out)
    return JSONResponse(
        out,
        status_code=status,
        headers={**NO_STORE, "Location": f"/api/v1/orders/{placed.order_id}"},
    )


def _release(store: IdempotencyStore, claim: Claim) -> None:
    # A claim that names its order was taken in the order's transaction: nothing to give back.
    if claim.resource_id is None:
        store.release(claim)


def _render(view: OrderView, access_token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = OrderOut.of(view, access_token=access_token).model_dump(mode="json")
    return body


def _replayed(replay: Replay) -> Response:
    is_problem = replay.status >= 400
    return Response(
        json.dumps(replay.body, separators=(",", ":")).encode(),
        status_code=replay.status,
        media_type=PROBLEM_JSON if is_problem else "application/json",
        headers={**NO_STORE, "Idempotent-Replayed": "true"},
    )


@router.post(
    "/orders/{order_id}/payment/confirm",
    response_model=OrderOut,
    summary="Complete a payment that required 3-D Secure (customer, or guest with Order-Token)",
)
def confirm_payment(
    order_id: OrderId,
    c: ContainerDep,
    who: OptionalPrincipal,
    order_token: Annotated[str | None, Header(alias="Order-Token", max_length=200)] = None,
) -> JSONResponse:
    c.checkout.confirm_payment(who, order_id, order_token)
    view = c.orders.view(who, order_id, order_token)
    return JSONResponse(OrderOut.of(view).model_dump(mode="json"), headers=NO_STORE)
