"""Payment events: what the gateway did with the customer's money, for the ledger and the
audit log.

Each is recorded in the transaction that writes the gateway's answer, so a refund is never
marked succeeded without its event (and never reported twice: the row moves once).
"""

from __future__ import annotations

from dataclasses import dataclass

from bazaar.kernel.events import Event
from bazaar.kernel.money import Money


@dataclass(frozen=True, kw_only=True)
class RefundSucceeded(Event):
    """The gateway paid back the refund ``refund_id`` of ``order_id``: ``amount`` reached
    the customer. ``refund_id`` is the id the orders context gave the refund (the one in its
    ``RefundIssued`` event, or its own for an order cancellation)."""

    subject_type = "refund"
    subject_field = "refund_id"
    refund_id: str
    order_id: str
    amount: Money


@dataclass(frozen=True, kw_only=True)
class PaymentVoided(Event):
    """The authorization of ``order_id`` was released uncaptured: ``released`` never left
    the customer, so every refund the order owed is settled by it."""

    subject_type = "payment"
    subject_field = "payment_id"
    payment_id: str
    order_id: str
    released: Money
