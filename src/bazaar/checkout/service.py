"""Placing an order: reserve, authorize, record; and repairing what a crash left behind.

Checkout never calls the payment gateway inside a transaction that holds stock:

1. **Transaction 1** validates the cart, prices it, creates the order ``awaiting_payment``,
   reserves its stock, writes a pending payment and marks the cart ordered: all or nothing.
2. **The gateway** is asked to authorize with a key derived from the order, so any number of
   retries is one authorization.
3. **Transaction 2** records the answer: paid (the reservation becomes an allocation and one
   fulfillment order per fulfiller is created), declined (the stock is released), or waiting
   for 3-D Secure. It writes compare-and-set, so the request, the confirmation and the
   reconciler can race and only one of them applies an answer.

A crash between 1 and 3 leaves a pending payment; :meth:`CheckoutService.reconcile` asks the
gateway what happened to its key and finishes the order, or fails it and releases the stock,
or voids an authorization that arrived for an order that meanwhile expired.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.checkout.addresses import Address, clean_address, clean_email
from bazaar.checkout.payment_recording import (
    KnownState,
    PaymentDeclined,
    PaymentRecording,
    RecordedState,
)
from bazaar.checkout.placement import Opened, OrderDraft, Placed, hash_token
from bazaar.checkout.ports import CartsPort, InventoryPort, PricingPort, Respond
from bazaar.checkout.quote_parts import Quote
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.idempotency import Claim, IdempotencyStore, KeyToClaim
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory.allocation import AllocationLine
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from bazaar.orders import store as orders_store
from bazaar.orders.access import require_access
from bazaar.orders.model import Order, OrderLine, ShippingLine
from bazaar.orders.service import OrderView
from bazaar.payments.model import GatewayResult, GatewayStatus, PaymentStatus
from bazaar.payments.service import PaymentService

__all__ = [
    "CartsPort",
    "CheckoutService",
    "InventoryPort",
    "PaymentDeclined",
    "PricingPort",
    "Respond",
]


class CheckoutService(PaymentRecording):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        uow_factory: Callable[[Actor], SqlUnitOfWork],
        *,
        carts: CartsPort,
        inventory: InventoryPort,
        payments: PaymentService,
        idempotency: IdempotencyStore,
        capture_at_placement: bool,
        seller_accept_sla: timedelta = timedelta(days=1),
        pricing: PricingPort | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._uow = uow_factory
        self._carts = carts
        self._inventory = inventory
        self._payments = payments
        self.idempotency = idempotency
        self._capture_at_placement = capture_at_placement
        self._pricing = pricing
        self._seller_accept_sla = seller_accept_sla

    # --- placing -------------------------------------------------------------------------------

    def place_order(
        self,
        principal: Principal | None,
        cart_token: str | None,
        draft: OrderDraft,
        claim: Claim | KeyToClaim,
        respond: Respond | None = None,
    ) -> Placed:
        """Create the order from the cart, reserve its stock and authorize its payment.

        Guarantees: the order, its reservation, its pending payment, the cart's conversion
        and the Idempotency-Key's resource are one transaction; the gateway is called after
        it commits, with the order's key, so a retry or a concurrent duplicate never charges
        twice. Raises 409 when stock ran out (nothing is created), 402 when the payment was
        declined (the order exists, failed, with its stock released). ``respond`` renders
        the 201 body: when the payment is recorded and nothing is left to do, that body is
        stored for the key in the same transaction (``Placed.responded``, ``Placed.body``).
        """
        if isinstance(claim, Claim) and claim.resource_id is not None:
            return self._resume(claim.resource_id)  # an earlier attempt created it: finish it
        return self.pay_order(self.open_order(principal, cart_token, draft, claim), respond)

    def open_order(
        self,
        principal: Principal | None,
        cart_token: str | None,
        draft: OrderDraft,
        claim: Claim | KeyToClaim,
    ) -> Opened:
        """Transaction 1: validate and price the cart, create the order ``awaiting_payment``,
        reserve its stock, start its payment and mark the cart ordered; all or nothing.

        A ``KeyToClaim`` is claimed by that transaction's first statement: ``KeyTaken`` when
        the key is stored (a replay, or a duplicate that committed first). Whatever this
        raises, it left nothing behind; a stored key shows up only as ``KeyTaken`` or as the
        error its own order caused (the cart is ordered), so a caller answering an error
        consults the key first.
        """
        email = clean_email(draft.email, "email")
        shipping_address = clean_address(draft.shipping_address, at="shipping_address")
        billing_address = (
            clean_address(draft.billing_address, at="billing_address")
            if draft.billing_address is not None
            else None
        )
        if not draft.payment_token.strip():
            raise ValidationFailed.on("payment.token", "A payment token is required", "required")
        with self._db.reading():  # the cart, its offers, shipping and VAT: one snapshot
            cart = self._carts.get_for_checkout(principal, cart_token, draft.cart_id)
            priced = self._carts.quote_with_offers(cart, shipping_address.country)
        quote: Quote = priced.quote
        offers: Mapping[str, Any] = priced.offers
        if not quote.lines:
            raise ValidationFailed.on("cart_id", "The cart is empty", "empty")
        order_id = new_id("ord")
        placed = Order.place(
            id=order_id,
            customer_id=_customer_id(principal),
            email=email,
            currency=quote.currency,
            prices_include_tax=quote.prices_include_tax,
            lines=[
                OrderLine(
                    id=new_id("oli"),
                    offer_id=line.offer_id,
                    sku=line.sku,
                    product_id=offers[line.offer_id].product_id,
                    fulfiller_id=line.fulfiller_id,
                    category_id=line.category_id,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount=line.discount,
                    tax=line.tax,
                    tax_rate=line.tax_rate,
                    total=line.total,
                )
                for line in quote.lines
            ],
            shipping=[
                ShippingLine(s.fulfiller_id, s.amount, s.tax, s.tax_rate, s.total)
                for s in quote.shipping
            ],
        )
        order = placed.value
        guest_token = secrets.token_urlsafe(24) if order.customer_id is None else None
        now = self._clock.now()
        titles = {o_id: o.title for o_id, o in offers.items()}
        address = _address_json(shipping_address)
        with self._uow(_actor(principal)) as uow:
            if isinstance(claim, KeyToClaim):
                # First, so that a concurrent duplicate waits on the key (not on stock rows)
                # and fails once this commits.
                claimed = self.idempotency.claim_in(uow.conn, claim, order_id)
            else:
                claimed = claim
                IdempotencyStore.attach(uow.conn, claim, order_id)
            orders_store.insert_order(
                uow.conn,
                order,
                titles=titles,
                cart_id=cart.id,
                access_token_hash=hash_token(guest_token) if guest_token else None,
                shipping_address=address,
                billing_address=_address_json(billing_address) if billing_address else None,
                at=now,
            )
            held = self._inventory.reserve(
                uow,
                order_id,
                [
                    AllocationLine(line.id, line.sku, line.quantity, line.fulfiller_id)
                    for line in order.lines
                ],
                destination_country=shipping_address.country,
                now=now,
                new_order=True,
            )
            if self._pricing is not None:  # coupon uses and budgets, by conditional updates
                self._pricing.commit(
                    uow.conn,
                    priced.priced,
                    order_id=order_id,
                    customer_id=order.customer_id,
                    unit_id=cart.owner_id or cart.id,
                    revenue=order.grand_total,
                    now=now,
                    shipping=quote.shipping,  # free shipping draws what it waived
                )
            payment = self._payments.start(uow.conn, new_id("pay"), order_id, order.grand_total)
            # the cart as priced: a change made meanwhile (another tab) refuses the order
            self._carts.mark_ordered(uow, cart.id, order_id, expected_version=cart.version)
            uow.record(*placed.events)
            uow.commit()
        return Opened(
            order,
            payment,
            held.reservations,
            claimed,
            guest_token,
            titles,
            address,
            draft.payment_token,
            now,
        )

    def pay_order(self, opened: Opened, respond: Respond | None = None) -> Placed:
        """The gateway, then transaction 2: record its answer for the order ``open_order``
        created (see :meth:`place_order` for the outcomes)."""
        order, payment, guest_token = opened.order, opened.payment, opened.guest_token
        rendered: list[Any] = []

        def view(state: RecordedState) -> OrderView:
            return OrderView(
                order=state.order,
                titles=opened.titles,
                shipping_address=opened.shipping_address,
                fulfillments=list(state.fulfillments),
                payment=state.payment,
                returns=[],
                created_at=opened.at,
                updated_at=state.at,
            )

        def finish(conn: Connection, state: RecordedState) -> None:
            assert respond is not None
            body = respond(view(state), guest_token)
            IdempotencyStore.complete_in(conn, opened.claim, 201, body)
            rendered.append(body)

        result = self._payments.authorize(payment, opened.payment_token)
        if result is None:
            pending = RecordedState(order, payment, (), opened.at)
            return Placed(order.id, guest_token, payment_pending=True, view=view(pending))
        recorded = self.record_authorization(
            order.id,
            result,
            known=KnownState(order, payment, opened.reservations),
            # a capture at placement changes the payment after this: answer after it
            finish=finish if respond is not None and not self._capture_at_placement else None,
        )
        responded = recorded is not None and recorded.responded
        return Placed(
            order.id,
            guest_token,
            payment_pending=False,
            view=view(recorded) if recorded is not None else None,
            responded=responded,
            body=rendered[-1] if responded else None,
        )

    def _resume(self, order_id: str) -> Placed:
        with self._db.read() as conn:
            payment = self._payments.of_order(conn, order_id)
        if payment.status is PaymentStatus.PENDING:
            result = self._payments.lookup(payment)
            if result is not None:
                self.record_authorization(order_id, result)
        return Placed(order_id, None, payment_pending=payment.status is PaymentStatus.PENDING)

    def confirm_payment(
        self, principal: Principal | None, order_id: str, access_token: str | None
    ) -> None:
        """Complete a 3-D Secure step: ask the gateway for the authorization's outcome."""
        self.require_order_access(principal, order_id, access_token)
        with self._db.read() as conn:
            payment = self._payments.of_order(conn, order_id)
        if payment.status is not PaymentStatus.REQUIRES_ACTION:
            return  # already answered (a double click, or the reconciler): nothing to do
        result = self._payments.confirm(payment)
        if result is None:
            raise Conflict("The payment provider is unreachable; retry shortly")
        self.record_authorization(order_id, result)

    def require_order_access(
        self, principal: Principal | None, order_id: str, access_token: str | None
    ) -> None:
        with self._db.read() as conn:
            require_access(conn, principal, order_id, access_token)

    # --- repairing -----------------------------------------------------------------------------

    def reconcile(self, *, older_than: timedelta = timedelta(seconds=60), limit: int = 200) -> int:
        """Finish payments a crash or an unreachable gateway left pending; retry captures.

        For each payment pending for longer than ``older_than``: the gateway is asked what it
        did with the payment's key. Authorized: the order is paid (or, if it expired meanwhile,
        the authorization is voided). Declined or never seen: the order fails and its stock is
        released. Returns how many payments were settled.
        """
        cutoff = self._clock.now() - older_than
        settled = 0
        for payment in self._payments.stale((PaymentStatus.PENDING,), cutoff, limit):
            result = self._payments.lookup(payment)
            if result is None:
                result = GatewayResult(
                    GatewayStatus.FAILED,
                    None,
                    decline_code="not_authorized",
                    decline_message="The payment never reached the provider",
                )
            with contextlib.suppress(PaymentDeclined):  # a decline is a settled outcome here
                self.record_authorization(payment.order_id, result)
            settled += 1
        if self._capture_at_placement:
            for payment in self._payments.stale((PaymentStatus.AUTHORIZED,), cutoff, limit):
                self._capture_quietly(payment.order_id)
        return settled


def _actor(principal: Principal | None) -> Actor:
    return principal.actor if principal is not None else Actor("guest")


def _customer_id(principal: Principal | None) -> str | None:
    """Orders belong to the signed-in customer; staff and API keys check out as guests."""
    if principal is not None and principal.kind == "user" and principal.role is Role.CUSTOMER:
        return principal.id
    return None


def _address_json(address: Address) -> dict[str, Any]:
    return {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
        "phone": address.phone,
    }
