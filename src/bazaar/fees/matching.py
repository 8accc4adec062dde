"""How a refund event is matched to what the ledger already posted. Pure Python.

Orders report a refund as units per line plus a shipping *total*, and the gateway reports
an amount paid back, not which refund it paid; these functions work out the rest, and
raise :class:`LedgerNotReady` when the ledger and the orders context disagree, so the
posting waits (the dispatcher retries it) rather than being written wrong.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from bazaar.fees.ledger import REFUNDS_PAYABLE, Transaction
from bazaar.fees.ports import OrderFacts
from bazaar.fees.postings import shipping_item
from bazaar.kernel.money import Money, sum_money


class LedgerNotReady(Exception):
    """A posting waits for another one (or for the orders context) to happen first; the
    dispatcher retries the event later."""


def owed_to_customer(t: Transaction) -> int:
    """What a refund or cancellation owes the customer: its credit to ``refunds_payable``."""
    return -sum(e.signed.amount for e in t.entries if e.account == REFUNDS_PAYABLE)


def require_owed(t: Transaction, expected: Money) -> None:
    """Raise :class:`LedgerNotReady` unless ``t`` owes the customer exactly ``expected``
    (what the orders context refunded): otherwise an earlier refund is not posted yet."""
    owed = Money(owed_to_customer(t), expected.currency)
    if owed != expected:
        raise LedgerNotReady(
            f"{t.kind} {t.reference} would owe the customer {owed}, the order says {expected}"
        )


def shipping_refunded(
    facts: OrderFacts, refunded: Mapping[str, int], amount: Money
) -> tuple[str, ...]:
    """Which fulfillers' shipping a refund of ``amount`` shipping gave back.

    It is those the orders context marked refunded that no earlier posting gave back
    (``refunded`` holds ``shipping:<fulfiller>`` items already posted), whose totals make
    ``amount``: shipping charges are refunded whole, and an order has a handful."""
    if amount.is_zero():
        return ()
    candidates = [
        s for s in facts.shipping if s.refunded and shipping_item(s.fulfiller_id) not in refunded
    ]
    for size in range(1, len(candidates) + 1):
        for combo in itertools.combinations(candidates, size):
            if sum_money((s.gross for s in combo), amount.currency) == amount:
                return tuple(s.fulfiller_id for s in combo)
    raise LedgerNotReady(f"Order {facts.order_id}: no unposted shipping refund makes {amount}")
