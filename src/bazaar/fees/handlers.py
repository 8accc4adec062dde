"""The ledger's event handlers, registered explicitly by the composition root.

Each is idempotent (a posting's dedupe key is unique, a delivery day is written once) and
reads what it needs from the event payload and the orders context, so a redelivery or an
out-of-order delivery converges on the same ledger. A handler that raises is retried by the
dispatcher with backoff; :class:`~bazaar.fees.matching.LedgerNotReady` is how a posting says
that what it builds on has not been posted yet.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bazaar.fees.service import LedgerService
from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.kernel.events import StoredEvent
from bazaar.kernel.money import Money
from bazaar.orders.events import (
    FulfillmentCancelled,
    FulfillmentDelivered,
    FulfillmentRejected,
    OrderCancelled,
    OrderPaid,
    RefundIssued,
)


def _money(value: Any) -> Money:
    return Money.from_dict(value)


def register(registry: HandlerRegistry, ledger: LedgerService) -> None:
    def on_order_paid(event: StoredEvent) -> None:
        ledger.record_order_paid(event.subject_id, event.occurred_at)

    def on_refund_issued(event: StoredEvent) -> None:
        p = event.payload
        ledger.record_refund(
            p["order_id"],
            p["refund_id"],
            {line["line_id"]: int(line["quantity"]) for line in p["lines"]},
            shipping=_money(p["shipping"]),
            amount=_money(p["amount"]),
            refunded_at=event.occurred_at,
        )

    def on_order_cancelled(event: StoredEvent) -> None:
        ledger.record_cancellation(
            event.subject_id,
            refund_due=_money(event.payload["refund_due"]),
            cancelled_at=event.occurred_at,
        )

    def on_fulfillment_ended(event: StoredEvent) -> None:
        p = event.payload
        day = event.occurred_at.astimezone(UTC).date()
        ledger.record_fulfillment_ended(p["order_id"], p["fulfiller_id"], day)

    registry.register(OrderPaid, "fees.post_order_paid", on_order_paid)
    registry.register(RefundIssued, "fees.post_refund", on_refund_issued)
    registry.register(OrderCancelled, "fees.post_cancellation", on_order_cancelled)
    for ended in (FulfillmentDelivered, FulfillmentCancelled, FulfillmentRejected):
        registry.register(ended, "fees.record_delivery", on_fulfillment_ended)
