"""Matching what the gateway paid back to the refunds the ledger posted: by id, never by totals."""

from __future__ import annotations

from datetime import UTC, datetime

from bazaar.fees.ledger import (
    CUSTOMER_PAYMENTS_CLEARING,
    REFUNDS_PAYABLE,
    Entry,
    Purpose,
    Transaction,
    TransactionKind,
)
from bazaar.fees.matching import refunds_paid_back
from bazaar.fees.ports import GatewayReturns, PaidRefund
from bazaar.kernel.money import Money

AT = datetime(2026, 3, 2, tzinfo=UTC)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def refund(
    reference: str, owed: int, kind: TransactionKind = TransactionKind.REFUND
) -> Transaction:
    entries = (
        Entry.from_signed(CUSTOMER_PAYMENTS_CLEARING, eur(owed), Purpose.REFUND, "x"),
        Entry.from_signed(REFUNDS_PAYABLE, eur(-owed), Purpose.REFUND, "x"),
    )
    return Transaction(f"ltx_{reference}", kind, reference, AT, entries, original_id="ltx_paid")


def references(ts: list[Transaction]) -> list[str]:
    return [t.reference for t in ts]


def test_a_paid_refund_settles_its_own_posting_not_an_older_one_of_the_same_amount() -> None:
    posted = [refund("ref_1", 500), refund("ref_2", 500)]
    paid = GatewayReturns((PaidRefund("ref_2", eur(500)),))
    assert references(refunds_paid_back(posted, set(), paid)) == ["ref_2"]


def test_a_refund_paid_for_another_amount_or_already_settled_settles_nothing() -> None:
    posted = [refund("ref_1", 500), refund("ref_2", 300)]
    paid = GatewayReturns((PaidRefund("ref_1", eur(400)), PaidRefund("ref_2", eur(300))))
    assert refunds_paid_back(posted, {"ltx_ref_2"}, paid) == []


def test_an_unknown_refund_id_is_the_cancellation_when_the_amount_matches() -> None:
    cancellation = refund("ord_1", 700, TransactionKind.CANCELLATION)
    posted = [refund("ref_1", 500), cancellation]
    assert refunds_paid_back(posted, set(), GatewayReturns((PaidRefund("ref_9", eur(700)),))) == [
        cancellation
    ]
    assert refunds_paid_back(posted, set(), GatewayReturns((PaidRefund("ref_9", eur(500)),))) == []
    # without a posted cancellation an unknown id settles nothing (its refund is not posted)
    assert (
        refunds_paid_back(posted[:1], set(), GatewayReturns((PaidRefund("ref_9", eur(500)),))) == []
    )


def test_a_void_settles_every_posting_once_they_owe_what_it_released() -> None:
    posted = [refund("ref_1", 500), refund("ord_1", 700, TransactionKind.CANCELLATION)]
    assert refunds_paid_back(posted[:1], set(), GatewayReturns(released=eur(1200))) == []
    assert references(refunds_paid_back(posted, set(), GatewayReturns(released=eur(1200)))) == [
        "ref_1",
        "ord_1",
    ]
