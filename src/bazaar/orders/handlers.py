"""The orders context's event handlers, registered explicitly by the composition root."""

from __future__ import annotations

from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.inventory.events import ReservationsExpired
from bazaar.kernel.events import StoredEvent
from bazaar.orders.service import OrderService


def register(registry: HandlerRegistry, orders: OrderService) -> None:
    def on_reservations_expired(event: StoredEvent) -> None:
        # Idempotent: cancelling an order that is no longer awaiting payment does nothing.
        orders.cancel_expired(event.subject_id)

    registry.register(ReservationsExpired, "orders.cancel_unpaid_expired", on_reservations_expired)
