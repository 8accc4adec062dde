"""The ledger's event handlers, registered explicitly by the composition root.

Each is idempotent (a posting's dedupe key is unique, a delivery day is written once) and
reads what it needs from the event payload, falling back to the orders context for what an
older payload lacks, so a redelivery or an out-of-order delivery converges on the same
ledger. A handler that raises is retried by the dispatcher with backoff;
:class:`~bazaar.fees.matching.LedgerNotReady` is how a posting says that what it builds on
has not been posted yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from bazaar.fees.ports import (
    GatewayReturns,
    OrderFacts,
    PaidRefund,
    ShippingCharge,
    SoldLine,
)
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
from bazaar.payments.events import PaymentVoided, RefundSucceeded


def _money(value: Any) -> Money:
    return Money.from_dict(value)


def paid_order_facts(order_id: str, payload: Mapping[str, Any]) -> OrderFacts | None:
    """The facts an ``OrderPaid`` payload carries, or None for an event stored before it
    carried its lines (the ledger then reads the order)."""
    lines = payload.get("lines")
    if not lines:
        return None
    sold = []
    for x in lines:
        total, tax = _money(x["total"]), _money(x["tax"])
        sold.append(
            SoldLine(
                x["line_id"],
                x["fulfiller_id"],
                x["category_id"],
                int(x["quantity"]),
                net=total - tax,
                tax=tax,
                gross=total,
            )
        )
    shipping = []
    for s in payload.get("shipping", ()):
        total, tax = _money(s["total"]), _money(s["tax"])
        # nothing is refunded at the moment of payment
        shipping.append(ShippingCharge(s["fulfiller_id"], total - tax, tax, total, False))
    currency = _money(payload["amount"]).currency
    return OrderFacts(order_id, currency, True, tuple(sold), tuple(shipping))


def register(registry: HandlerRegistry, ledger: LedgerService) -> None:
    def on_order_paid(event: StoredEvent) -> None:
        facts = paid_order_facts(event.subject_id, event.payload)
        ledger.record_order_paid(event.subject_id, event.occurred_at, facts)

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

    def on_refund_succeeded(event: StoredEvent) -> None:
        p = event.payload
        paid = PaidRefund(p["refund_id"], _money(p["amount"]))
        ledger.record_refunds_paid(p["order_id"], GatewayReturns(refunds=(paid,)))

    def on_payment_voided(event: StoredEvent) -> None:
        p = event.payload
        ledger.record_refunds_paid(p["order_id"], GatewayReturns(released=_money(p["released"])))

    registry.register(OrderPaid, "fees.post_order_paid", on_order_paid)
    registry.register(RefundIssued, "fees.post_refund", on_refund_issued)
    registry.register(OrderCancelled, "fees.post_cancellation", on_order_cancelled)
    for ended in (FulfillmentDelivered, FulfillmentCancelled, FulfillmentRejected):
        registry.register(ended, "fees.record_delivery", on_fulfillment_ended)
    registry.register(RefundSucceeded, "fees.settle_refund", on_refund_succeeded)
    registry.register(PaymentVoided, "fees.settle_void", on_payment_voided)
