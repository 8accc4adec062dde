"""Seller statements: what moved on one seller's payable account in a period, and why.

Pure Python. A statement is read from the ledger: the opening balance is the seller's
payable before the period, each line is what one transaction did to it for one purpose
(a sale, commission, shipping, a fee, a refund, a payout), and the closing balance is the
opening balance plus the lines. Amounts are from the seller's point of view: positive is
money the marketplace owes the seller, negative is money taken off (commission, fees,
refunded sales, payouts). A day is the UTC date of a transaction's ``posted_at``.

:func:`to_csv` and :func:`to_json` export a statement with every amount both in minor units
and as a decimal string, so spreadsheets and programs each read it without guessing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date

from bazaar.fees.ledger import Purpose, Transaction, TransactionKind, seller_payable
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money, exponent, sum_money


@dataclass(frozen=True)
class StatementLine:
    date: date
    transaction_id: str
    kind: TransactionKind
    reference: str  # the order, refund, payout... the transaction was about
    description: Purpose
    amount: Money
    balance: Money  # running balance after this line


@dataclass(frozen=True)
class Statement:
    seller_id: str
    currency: str
    period_start: date  # first day included
    period_end: date  # last day included
    opening_balance: Money
    lines: tuple[StatementLine, ...]
    closing_balance: Money


def _day(transaction: Transaction) -> date:
    return transaction.posted_at.astimezone(UTC).date()


def _movements(transaction: Transaction, seller_id: str, currency: str) -> dict[Purpose, Money]:
    # One line per purpose: a refund returning three units of a line is one "sale" line,
    # not three, and the order of purposes follows the entries.
    account = seller_payable(seller_id)
    moved: dict[Purpose, Money] = {}
    for entry in transaction.entries:
        if entry.account == account and entry.amount.currency == currency:
            # A payable grows with credits: the seller's view is minus the signed amount.
            before = moved.get(entry.purpose, Money.zero(currency))
            moved[entry.purpose] = before - entry.signed
    return {purpose: amount for purpose, amount in moved.items() if not amount.is_zero()}


def statement(
    seller_id: str,
    period_start: date,
    period_end: date,
    transactions: Iterable[Transaction],
    *,
    currency: str,
) -> Statement:
    """The statement of ``seller_id`` in ``currency`` for the days ``period_start`` to
    ``period_end``, both included, from the whole ledger ``transactions``.

    Guarantees: lines are ordered by ``posted_at`` then transaction id, so the same ledger
    always gives the same statement; each line's balance is the previous balance plus its
    amount; the closing balance equals the seller's payable at the end of the period.
    Raises ``ValidationFailed`` on ``period_end`` when it is before ``period_start``.
    """
    if period_end < period_start:
        raise ValidationFailed.on("period_end", "Must not be before period_start", "out_of_range")
    opening = Money.zero(currency)
    in_period: list[Transaction] = []
    for transaction in transactions:
        day = _day(transaction)
        if day < period_start:
            moved = _movements(transaction, seller_id, currency).values()
            opening = opening + sum_money(moved, currency)
        elif day <= period_end:
            in_period.append(transaction)
    in_period.sort(key=lambda t: (t.posted_at, t.id))

    running = opening
    lines: list[StatementLine] = []
    for transaction in in_period:
        for purpose, amount in _movements(transaction, seller_id, currency).items():
            running = running + amount
            lines.append(
                StatementLine(
                    _day(transaction),
                    transaction.id,
                    transaction.kind,
                    transaction.reference,
                    purpose,
                    amount,
                    running,
                )
            )
    return Statement(seller_id, currency, period_start, period_end, opening, tuple(lines), running)


def format_decimal(money: Money) -> str:
    """The amount as a plain decimal string in major units: ``-0.05``, ``1234.50``, ``500``."""
    digits = exponent(money.currency)
    sign = "-" if money.amount < 0 else ""
    if digits == 0:
        return f"{sign}{abs(money.amount)}"
    major, minor = divmod(abs(money.amount), 10**digits)
    return f"{sign}{major}.{minor:0{digits}d}"


CSV_COLUMNS = (
    "date",
    "transaction_id",
    "kind",
    "reference",
    "description",
    "amount",
    "amount_minor",
    "currency",
    "balance",
    "balance_minor",
)


def to_csv(statement: Statement) -> str:
    """The statement as CSV (RFC 4180, ``\\r\\n`` line ends) with the header
    :data:`CSV_COLUMNS`: an ``opening_balance`` row, one row per line, a
    ``closing_balance`` row. Column order never changes; new columns are only appended."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)

    def balance_row(day: date, kind: str, balance: Money) -> list[str]:
        decimal, minor = format_decimal(balance), str(balance.amount)
        return [day.isoformat(), "", kind, "", "", "", "", balance.currency, decimal, minor]

    writer.writerow(
        balance_row(statement.period_start, "opening_balance", statement.opening_balance)
    )
    for line in statement.lines:
        writer.writerow(
            [
                line.date.isoformat(),
                line.transaction_id,
                str(line.kind),
                line.reference,
                str(line.description),
                format_decimal(line.amount),
                str(line.amount.amount),
                line.amount.currency,
                format_decimal(line.balance),
                str(line.balance.amount),
            ]
        )
    writer.writerow(balance_row(statement.period_end, "closing_balance", statement.closing_balance))
    return out.getvalue()


def _money(money: Money) -> dict[str, object]:
    return {"amount": money.amount, "currency": money.currency, "decimal": format_decimal(money)}


def to_json(statement: Statement) -> dict[str, object]:
    """The statement as JSON-ready data; money is ``{"amount": <minor units>, "currency":
    <code>, "decimal": "<major units>"}`` and dates are ISO 8601 strings."""
    return {
        "seller_id": statement.seller_id,
        "currency": statement.currency,
        "period_start": statement.period_start.isoformat(),
        "period_end": statement.period_end.isoformat(),
        "opening_balance": _money(statement.opening_balance),
        "lines": [
            {
                "date": line.date.isoformat(),
                "transaction_id": line.transaction_id,
                "kind": str(line.kind),
                "reference": line.reference,
                "description": str(line.description),
                "amount": _money(line.amount),
                "balance": _money(line.balance),
            }
            for line in statement.lines
        ],
        "closing_balance": _money(statement.closing_balance),
    }
