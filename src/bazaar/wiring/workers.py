"""The periodic background tasks of one process, started next to the event dispatcher.

Every task here is safe to run in many processes at once (see :mod:`bazaar.infra.periodic`),
so each worker runs all of them and no leader is elected. :meth:`Container.close
<bazaar.bootstrap.Container.close>` stops them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bazaar.infra.periodic import Periodic
from bazaar.orders.closing import build_order_closer

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_workers(container: Container) -> None:
    """The sweepers of carts and stock reservations, the payment reconciler, the closing of
    orders past their return window, and the reload of pricing rules another process changed
    (with the guest prices of the search index, which follow them and their time windows)."""
    settings, clock = container.settings, container.clock
    container.pricing_refresher = Periodic(
        "bazaar-pricing-rules",
        settings.pricing_rules_refresh_s,
        lambda: (container.pricing_rules.refresh_if_stale(), container.shelf_index.sync()),
    )
    container.cart_sweeper = Periodic(
        "bazaar-cart-sweeper",
        settings.cart_sweep_interval_s,
        container.cart_housekeeping.sweep_abandoned,
    )
    container.sweeper = Periodic(
        "bazaar-reservation-sweeper",
        settings.reservation_sweep_interval_s,
        container.inventory.sweep_expired,
    )
    reconcile_after = timedelta(seconds=settings.payment_reconcile_after_s)
    container.reconciler = Periodic(
        "bazaar-payment-reconciler",
        settings.payment_reconcile_after_s,
        lambda: (
            container.checkout.reconcile(older_than=reconcile_after)
            + container.orders.reconcile_money(clock.now() - reconcile_after)
            + container.ledger.settle_refunds()
            # sellers' fulfillment orders left unaccepted past their deadline
            + container.routing.expire_overdue()
        ),
    )
    container.order_closer = build_order_closer(
        container.order_closing, settings.order_close_interval_s
    )
