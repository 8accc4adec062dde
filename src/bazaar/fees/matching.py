"""How a refund event is matched to what the ledger already posted. Pure Python.

Orders report a refund as units per line plus a shipping *total*; these functions work out
which charges that was, and raise :class:`LedgerNotReady` when the ledger and the orders
context disagree, so the posting waits (the dispatcher retries it) rather than being written
wrong. The gateway reports each refund it paid by the refund's id and amount
(:func:`refunds_paid_back` matches them to postings one by one, never by totals).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence

from bazaar.fees.ledger import REFUNDS_PAYABLE, Transaction, TransactionKind
from bazaar.fees.ports import GatewayReturns, OrderFacts
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


def refunds_paid_back(
    posted: Sequence[Transaction], settled: Collection[str], returned: GatewayReturns
) -> list[Transaction]:
    """Which of an order's posted refunds and cancellation (``posted``, none of them in
    ``settled``, the ids already paid) the gateway has paid back, oldest first.

    * A gateway refund settles the posting whose reference is its refund id, if that
      posting owes the customer exactly its amount.
    * A gateway refund with an id the ledger never posted settles the cancellation if that
      owes exactly its amount: the orders context gives a cancellation's payment refund an
      id of its own, and once the cancellation is posted every earlier refund of the order
      is too (:func:`require_owed` holds the cancellation back until they are), so an
      unknown id can only be the cancellation's.
    * A released authorization settles every posting at once, once together they owe
      exactly what was released: nothing was captured, so nothing else was paid back.

    Whatever does not match exactly stays unsettled (and on ``refunds_payable``)."""
    references = {t.reference: t for t in posted}
    cancellation = next((t for t in posted if t.kind is TransactionKind.CANCELLATION), None)
    due: set[str] = set()
    for paid in returned.refunds:
        t = references.get(paid.refund_id, cancellation)
        if t is not None and owed_to_customer(t) == paid.amount.amount:
            due.add(t.id)
    released = returned.released
    if released is not None and sum(owed_to_customer(t) for t in posted) == released.amount:
        due.update(t.id for t in posted)
    return [t for t in posted if t.id in due and t.id not in settled and owed_to_customer(t)]
