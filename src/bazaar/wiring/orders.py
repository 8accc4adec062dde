"""Payments, checkout, orders and the routing of sellers' fulfillment orders."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bazaar.checkout.service import CheckoutService
from bazaar.infra.idempotency import IdempotencyStore
from bazaar.orders.closing import OrderCloser
from bazaar.orders.routing import RoutingService
from bazaar.orders.service import OrderService
from bazaar.payments.gateway import PaymentGateway
from bazaar.payments.service import PaymentService

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_orders(container: Container, gateway: PaymentGateway) -> None:
    """From a priced cart to a paid order routed to its fulfillers.

    Payment is captured at placement or at shipment, as the settings say; checkout and
    routing share one idempotency store, so a retried request is answered once.
    """
    settings, db, clock = container.settings, container.db, container.clock
    container.payments = PaymentService(db, clock, gateway, container.uow)
    container.checkout = CheckoutService(
        db,
        clock,
        container.uow,
        carts=container.carts,
        inventory=container.inventory,
        payments=container.payments,
        idempotency=IdempotencyStore(
            db,
            clock,
            ttl=timedelta(seconds=settings.idempotency_ttl_s),
            lease=timedelta(seconds=settings.idempotency_lease_s),
        ),
        capture_at_placement=settings.capture_on == "placement",
        seller_accept_sla=timedelta(seconds=settings.seller_accept_sla_s),
        pricing=container.pricing,
    )
    container.orders = OrderService(
        db,
        clock,
        container.uow,
        stock=container.inventory,
        payments=container.payments,
        capture_on_shipment=settings.capture_on == "shipment",
        return_window=timedelta(days=settings.return_window_days),
    )
    container.order_closing = OrderCloser(
        db,
        clock,
        container.uow,
        return_window=container.orders.return_window,
        deliveries=container.orders.fulfilling,
        assume_delivered_after=(
            timedelta(days=settings.assume_delivered_after_days)
            if settings.assume_delivered_after_days
            else None
        ),
    )
    container.routing = RoutingService(
        db,
        clock,
        container.cursors,
        container.orders.fulfilling,
        idempotency=container.checkout.idempotency,
    )
