"""What each seller is owed, movement by movement, and from which day a run may pay it.

Pure Python. :func:`payable_entries` reads the sellers' payable movements from the ledger
that no earlier run settled, and each :class:`PayableEntry` knows the day its hold ends
(:func:`hold_within_return_window` caps that hold). This is the input side of a payout run,
kept apart from :mod:`bazaar.fees.payouts`, which plans the run and holds the payout state
machine: reading the ledger is the only part of payouts that knows about transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from bazaar.fees.ledger import Transaction, TransactionKind
from bazaar.kernel.money import Money


@dataclass(frozen=True)
class PayableEntry:
    """What one transaction did to one seller's payable, from the seller's side (positive:
    owed to the seller). ``awaits_delivery``: released ``hold_days`` after
    ``delivered_on`` (None: not delivered yet)."""

    transaction_id: str
    seller_id: str
    amount: Money
    posted_on: date
    awaits_delivery: bool = False
    delivered_on: date | None = None

    def available_on(self, hold_days: int) -> date | None:
        """The first day a run may pay this out; None while it awaits delivery."""
        if not self.awaits_delivery:
            return self.posted_on
        if self.delivered_on is None:
            return None
        return max(self.posted_on, self.delivered_on + timedelta(days=hold_days))


# Settlement bookkeeping moves money already planned; it is not itself something to pay.
_SETTLEMENTS = frozenset({TransactionKind.PAYOUT, TransactionKind.PAYOUT_PAID})


def _root(transaction: Transaction, by_id: Mapping[str, Transaction]) -> Transaction:
    # A refund follows its order posting, a reversal what it reverses: the first
    # transaction of the chain says whether the money waits for a delivery.
    seen = {transaction.id}
    while (original := by_id.get(transaction.original_id or "")) and original.id not in seen:
        transaction = original
        seen.add(transaction.id)
    return transaction


def hold_within_return_window(hold_days: int, return_window_days: int | None) -> int:
    """The hold a run applies: ``hold_days``, released no later than the day after the
    last day a return of the seller's part could be requested (the window runs from the
    moment of delivery, ``delivered_on`` is its day). Past that the order completes and no
    refund can come, so a longer hold protects nothing; ``return_window_days`` None: no
    window, no cap."""
    if return_window_days is None:
        return hold_days
    return min(hold_days, return_window_days + 1)


def payable_entries(
    transactions: Iterable[Transaction],
    *,
    delivered_on: Mapping[tuple[str, str], date],
    settled: Collection[tuple[str, str]] = (),
) -> list[PayableEntry]:
    """The sellers' payable movements of ``transactions`` not in ``settled`` (pairs of
    seller id and transaction id), in ledger order.

    ``delivered_on`` maps (order id, seller id) to the day that seller's part of the order
    was delivered or ended. Payouts, their settlement and reversals of payouts are left
    out; an order's refunds, cancellations and reversals wait for the order's delivery
    like its sale.
    """
    ledger = list(transactions)
    by_id = {t.id: t for t in ledger}
    settled_pairs = set(settled)
    entries: list[PayableEntry] = []
    for t in ledger:
        root = _root(t, by_id)
        if root.kind in _SETTLEMENTS:
            continue
        awaits = root.kind is TransactionKind.ORDER_PAID
        moved: dict[tuple[str, str], Money] = {}
        for entry in t.entries:
            seller_id = entry.account.seller_id
            if seller_id is not None:
                key = (seller_id, entry.amount.currency)
                moved[key] = moved.get(key, Money.zero(key[1])) - entry.signed
        for (seller_id, _), amount in moved.items():
            if amount.is_zero() or (seller_id, t.id) in settled_pairs:
                continue
            entries.append(
                PayableEntry(
                    t.id,
                    seller_id,
                    amount,
                    t.posted_at.astimezone(UTC).date(),
                    awaits_delivery=awaits,
                    delivered_on=delivered_on.get((root.reference, seller_id)) if awaits else None,
                )
            )
    return entries
