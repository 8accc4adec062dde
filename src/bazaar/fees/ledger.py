"""The double-entry ledger: accounts, balanced transactions, reversals, balances and checks.

Pure Python. Every money movement is a :class:`Transaction` of :class:`Entry` rows; an entry
debits or credits one account with a positive amount. A transaction cannot be built unless,
in each currency, its debits equal its credits, so the ledger balances by construction;
:func:`check_ledger` re-verifies a stored ledger (for ``bazaar ledger check``), reading rows
through :meth:`Transaction.restore`, which does not refuse, so that corruption is reported
rather than crashing the check.

Accounts (see the constants below) follow the usual normal sides: assets and expenses grow
with debits, liabilities and revenue with credits. :func:`balances` reports each account on
its normal side, so a positive ``seller_payable:<id>`` is what the marketplace owes that
seller and a negative one is what the seller owes the marketplace.

Entries carry a :class:`Purpose` (what the money is for: a sale, VAT, commission...) and an
``item`` (which part of the business event: an order line id, ``shipping:<fulfiller id>``,
``order_fee:<seller id>``), so that a refund can reverse exactly the entries of the units it
returns and a statement can say what each amount was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def grows_with_debits(self) -> bool:
        return self in (AccountKind.ASSET, AccountKind.EXPENSE)


SELLER_PAYABLE_PREFIX = "seller_payable:"


@dataclass(frozen=True)
class Account:
    """A ledger account, named by a stable ``code`` such as ``vat_payable``."""

    code: str
    kind: AccountKind

    def __post_init__(self) -> None:
        if not self.code or self.code != self.code.strip() or " " in self.code:
            raise ValueError(f"Bad account code {self.code!r}")

    @property
    def seller_id(self) -> str | None:
        """The seller of a ``seller_payable:<seller id>`` account, else None."""
        if self.code.startswith(SELLER_PAYABLE_PREFIX):
            return self.code.removeprefix(SELLER_PAYABLE_PREFIX)
        return None


# Money received through the payment gateway and not yet settled to the bank.
CUSTOMER_PAYMENTS_CLEARING = Account("customer_payments_clearing", AccountKind.ASSET)
BANK = Account("bank", AccountKind.ASSET)
# Refunds decided and owed to customers until the gateway has paid them back.
REFUNDS_PAYABLE = Account("refunds_payable", AccountKind.LIABILITY)
VAT_PAYABLE = Account("vat_payable", AccountKind.LIABILITY)
# Seller payouts confirmed by an operator and not yet confirmed paid by the bank.
PAYOUTS_IN_TRANSIT = Account("payouts_in_transit", AccountKind.LIABILITY)
COMMISSION_REVENUE = Account("commission_revenue", AccountKind.REVENUE)
ORDER_FEE_REVENUE = Account("order_fee_revenue", AccountKind.REVENUE)
LISTING_FEE_REVENUE = Account("listing_fee_revenue", AccountKind.REVENUE)
# The retailer's own (first-party) sales and shipping, net of VAT.
RETAILER_SALES_REVENUE = Account("retailer_sales_revenue", AccountKind.REVENUE)


def seller_payable(seller_id: str) -> Account:
    """What the marketplace owes ``seller_id`` (a liability; negative: the seller owes)."""
    return Account(f"{SELLER_PAYABLE_PREFIX}{seller_id}", AccountKind.LIABILITY)


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class Purpose(StrEnum):
    """What an entry's money is for; statements show it as the line's description."""

    PAYMENT = "payment"  # the customer paid
    SALE = "sale"  # goods sold, net of VAT
    SHIPPING = "shipping"  # shipping charged, net of VAT
    VAT = "vat"
    COMMISSION = "commission"
    ORDER_FEE = "order_fee"
    LISTING_FEE = "listing_fee"
    REFUND = "refund"  # owed back to, or paid back to, the customer
    PAYOUT = "payout"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True)
class Entry:
    """One side of a movement: ``amount`` (always positive) debited or credited to
    ``account``. Raises ``ValidationFailed`` on ``amount`` unless it is above zero."""

    account: Account
    side: Side
    amount: Money
    purpose: Purpose
    item: str = ""

    def __post_init__(self) -> None:
        if self.amount.amount <= 0:
            raise ValidationFailed.on("amount", "An entry's amount must be above zero")

    @classmethod
    def from_signed(
        cls, account: Account, signed: Money, purpose: Purpose, item: str = ""
    ) -> Entry:
        """A debit of ``signed`` when it is positive, a credit of ``-signed`` when negative."""
        side = Side.DEBIT if signed.amount > 0 else Side.CREDIT
        return cls(account, side, Money(abs(signed.amount), signed.currency), purpose, item)

    @property
    def signed(self) -> Money:
        """The amount with debits positive and credits negative."""
        return self.amount if self.side is Side.DEBIT else -self.amount

    def mirrored(self) -> Entry:
        """The same entry on the other side."""
        side = Side.CREDIT if self.side is Side.DEBIT else Side.DEBIT
        return Entry(self.account, side, self.amount, self.purpose, self.item)


class TransactionKind(StrEnum):
    ORDER_PAID = "order_paid"
    REFUND = "refund"
    CANCELLATION = "cancellation"
    REFUND_PAID = "refund_paid"
    LISTING_FEES = "listing_fees"
    PAYOUT = "payout"
    PAYOUT_PAID = "payout_paid"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"  # an operator's manual correction


# Kinds whose business reference (order, refund, payout...) may be posted only once.
UNIQUE_REFERENCE_KINDS = frozenset(TransactionKind) - {
    TransactionKind.REVERSAL,
    TransactionKind.ADJUSTMENT,
}


class UnbalancedTransaction(ValidationFailed):
    """A transaction's debits and credits differ in some currency (422)."""

    code = "unbalanced_transaction"
    title = "Transaction does not balance"


def _imbalances(entries: Iterable[Entry]) -> dict[str, Money]:
    totals: dict[str, Money] = {}
    for entry in entries:
        currency = entry.amount.currency
        totals[currency] = totals.get(currency, Money.zero(currency)) + entry.signed
    return {currency: total for currency, total in totals.items() if not total.is_zero()}


@dataclass(frozen=True)
class Transaction:
    """A balanced set of entries recording one business event.

    ``reference`` is the business id the event is about (order, refund, payout id...);
    ``original_id`` is the transaction this one reverses or settles, wholly (a reversal) or
    partly (a refund of an order posting). Raises :class:`UnbalancedTransaction` when debits
    and credits differ in any currency, and ``ValueError`` for an empty id, a ``posted_at``
    without a time zone, or a reversal without an original.
    """

    id: str
    kind: TransactionKind
    reference: str
    posted_at: datetime
    entries: tuple[Entry, ...]
    original_id: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("A transaction needs an id")
        if self.posted_at.tzinfo is None:
            raise ValueError(f"Transaction {self.id}: posted_at needs a time zone")
        if self.kind is TransactionKind.REVERSAL and self.original_id is None:
            raise ValueError(f"Transaction {self.id}: a reversal names its original")
        off = self.imbalances()
        if off:
            detail = ", ".join(str(m) for m in off.values())
            message = f"Transaction {self.id} does not balance: debits - credits = {detail}"
            raise UnbalancedTransaction(message, errors=[FieldError("entries", message)])

    @classmethod
    def restore(
        cls,
        id: str,
        kind: TransactionKind,
        reference: str,
        posted_at: datetime,
        entries: Sequence[Entry],
        original_id: str | None = None,
    ) -> Transaction:
        """Rebuild a stored transaction without checking it, so that :func:`check_ledger`
        can report a corrupted row instead of failing on it. Never use it to post."""
        transaction = object.__new__(cls)
        values = {
            "id": id,
            "kind": kind,
            "reference": reference,
            "posted_at": posted_at,
            "entries": tuple(entries),
            "original_id": original_id,
        }
        for name, value in values.items():
            object.__setattr__(transaction, name, value)
        return transaction

    def imbalances(self) -> dict[str, Money]:
        """Per currency, debits minus credits where they differ (empty: balanced)."""
        return _imbalances(self.entries)


def reverse(transaction: Transaction, *, transaction_id: str, posted_at: datetime) -> Transaction:
    """The exact mirror of ``transaction``: the same accounts, amounts, purposes and items,
    each on the other side, as a ``reversal`` of it with the same reference.

    Guarantees: posting the original and its reversal leaves every balance as it was before
    either; the reversal of a reversal has exactly the original's entries.
    """
    return Transaction(
        transaction_id,
        TransactionKind.REVERSAL,
        transaction.reference,
        posted_at,
        tuple(entry.mirrored() for entry in transaction.entries),
        original_id=transaction.id,
    )


def balances(transactions: Iterable[Transaction]) -> dict[tuple[Account, str], Money]:
    """Each (account, currency) touched, balanced on the account's normal side (debits
    minus credits for assets and expenses, credits minus debits for the rest)."""
    totals: dict[tuple[Account, str], Money] = {}
    for transaction in transactions:
        for entry in transaction.entries:
            key = (entry.account, entry.amount.currency)
            grows = entry.signed if entry.account.kind.grows_with_debits else -entry.signed
            totals[key] = totals[key] + grows if key in totals else grows
    return totals


def balance(transactions: Iterable[Transaction], account: Account, currency: str) -> Money:
    """The balance of one account in one currency (zero when never touched)."""
    return balances(transactions).get((account, currency), Money.zero(currency))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a ledger; ``code`` is stable, ``message`` is for people."""

    transaction_id: str
    code: str
    message: str


def _refunded_to_customer(transaction: Transaction) -> dict[str, int]:
    owed: dict[str, int] = {}
    for entry in transaction.entries:
        if entry.account == REFUNDS_PAYABLE:
            currency = entry.amount.currency
            owed[currency] = owed.get(currency, 0) - entry.signed.amount
    return owed


def _paid_by_customer(transaction: Transaction) -> dict[str, int]:
    paid: dict[str, int] = {}
    for entry in transaction.entries:
        if entry.account == CUSTOMER_PAYMENTS_CLEARING:
            currency = entry.amount.currency
            paid[currency] = paid.get(currency, 0) + entry.signed.amount
    return paid


def check_ledger(transactions: Iterable[Transaction]) -> list[Problem]:
    """Everything wrong with a whole ledger, grouped by check; empty when it is sound.

    Checks (``Problem.code``): every transaction balances per currency (``unbalanced``);
    no id is used twice (``duplicate_id``); no business reference of a kind that happens
    once (an order paid, a refund, a payout...) is posted twice unless the earlier one was
    reversed (``duplicate_reference``); an account code always has the same kind
    (``inconsistent_account``); every ``original_id`` exists (``missing_original``); a
    reversal mirrors its original exactly (``not_a_mirror``); nothing is reversed twice
    (``reversed_twice``); refunds of an order never exceed what the customer paid for it
    (``refund_exceeds_payment``).
    """
    problems: list[Problem] = []
    by_id: dict[str, Transaction] = {}
    account_kinds: dict[str, AccountKind] = {}
    for t in transactions:
        if t.id in by_id:
            problems.append(Problem(t.id, "duplicate_id", f"Id {t.id} is used more than once"))
            continue
        by_id[t.id] = t
        for off in _imbalances(t.entries).values():
            message = f"Debits - credits = {off}"
            problems.append(Problem(t.id, "unbalanced", message))
        for entry in t.entries:
            known = account_kinds.setdefault(entry.account.code, entry.account.kind)
            if known is not entry.account.kind:
                message = f"Account {entry.account.code} is {entry.account.kind}, was {known}"
                problems.append(Problem(t.id, "inconsistent_account", message))

    reversals: dict[str, list[str]] = {}
    refunds: dict[str, list[Transaction]] = {}
    for t in by_id.values():
        if t.original_id is None:
            if t.kind is TransactionKind.REVERSAL:
                problems.append(Problem(t.id, "missing_original", "A reversal of nothing"))
            continue
        original = by_id.get(t.original_id)
        if original is None:
            message = f"Original transaction {t.original_id} is not in the ledger"
            problems.append(Problem(t.id, "missing_original", message))
            continue
        if t.kind is TransactionKind.REVERSAL:
            reversals.setdefault(original.id, []).append(t.id)
            if Counter(t.entries) != Counter(e.mirrored() for e in original.entries):
                message = f"Does not mirror {original.id} exactly"
                problems.append(Problem(t.id, "not_a_mirror", message))
        elif t.kind in (TransactionKind.REFUND, TransactionKind.CANCELLATION):
            refunds.setdefault(original.id, []).append(t)

    for original_id, reversal_ids in reversals.items():
        for extra in reversal_ids[1:]:
            message = f"{original_id} was already reversed by {reversal_ids[0]}"
            problems.append(Problem(extra, "reversed_twice", message))

    for original_id, refund_list in refunds.items():
        paid = _paid_by_customer(by_id[original_id])
        owed: dict[str, int] = {}
        for refund in refund_list:
            if refund.id in reversals:
                continue
            for currency, amount in _refunded_to_customer(refund).items():
                owed[currency] = owed.get(currency, 0) + amount
        for currency, amount in owed.items():
            if amount > paid.get(currency, 0):
                message = f"Refunds of {original_id} exceed the payment in {currency}"
                problems.append(Problem(refund_list[-1].id, "refund_exceeds_payment", message))

    seen: dict[tuple[TransactionKind, str], str] = {}
    for t in by_id.values():
        if t.kind not in UNIQUE_REFERENCE_KINDS or t.id in reversals:
            continue
        first = seen.setdefault((t.kind, t.reference), t.id)
        if first != t.id:
            message = f"{t.kind} {t.reference} was already posted as {first}"
            problems.append(Problem(t.id, "duplicate_reference", message))
    return problems
