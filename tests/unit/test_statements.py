"""Seller statements: opening balance, lines with running balance, closing balance, exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.fees.ledger import Purpose, Transaction, TransactionKind, balance, seller_payable
from bazaar.fees.model import (
    CommissionSchedule,
    FeeSchedule,
    PaidLine,
    PaidOrder,
    PaidShipping,
    Refund,
    RefundUnits,
)
from bazaar.fees.postings import post_listing_fees, post_order_paid, post_payout, post_refund
from bazaar.fees.statements import CSV_COLUMNS, format_decimal, statement, to_csv, to_json
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


FEES = FeeSchedule(
    commission=CommissionSchedule("EUR", Decimal("0.10")),
    order_fee=eur(50),
    monthly_listing_fee=eur(1000),
)


def seller_order(order_id: str, paid_at: datetime) -> PaidOrder:
    # 2 units from sel_a, 50.00 net, 21 % VAT; its own shipping 6.95 net
    return PaidOrder(
        order_id,
        "EUR",
        paid_at,
        (PaidLine("oln_1", "sel_a", "cat_mugs", 2, eur(5000), eur(1050), eur(6050)),),
        (PaidShipping("sel_a", "sel_a", eur(695), eur(146), eur(841)),),
    )


def february_ledger() -> list[Transaction]:
    order = seller_order("ord_1", at(date(2025, 2, 3)))
    paid = post_order_paid(order, FEES, transaction_id="txn_02")
    refund = Refund("ref_1", at(date(2025, 2, 5)), (RefundUnits("oln_1", 1),))
    return [
        # listed in a shuffled order: statements sort by time, not by input order
        post_payout(
            "sel_a", eur(1000), "po_1", transaction_id="txn_04", posted_at=at(date(2025, 2, 10))
        ),
        post_listing_fees(
            "sel_a",
            eur(504),
            date(2025, 1, 1),
            transaction_id="txn_01",
            posted_at=at(date(2025, 1, 31), 23),
        ),
        paid,
        post_refund(paid, order, refund, transaction_id="txn_03"),
        post_order_paid(seller_order("ord_9", at(date(2025, 3, 1))), FEES, transaction_id="txn_05"),
        post_listing_fees(
            "sel_b",
            eur(99),
            date(2025, 2, 1),
            transaction_id="txn_06",
            posted_at=at(date(2025, 2, 4)),
        ),
    ]


def test_statement_has_opening_lines_running_balance_and_closing() -> None:
    # when
    s = statement("sel_a", date(2025, 2, 1), date(2025, 2, 28), february_ledger(), currency="EUR")
    # then
    assert s.opening_balance == eur(-504)
    assert [(x.transaction_id, x.kind, x.description, x.amount, x.balance) for x in s.lines] == [
        ("txn_02", TransactionKind.ORDER_PAID, Purpose.SALE, eur(5000), eur(4496)),
        ("txn_02", TransactionKind.ORDER_PAID, Purpose.COMMISSION, eur(-500), eur(3996)),
        ("txn_02", TransactionKind.ORDER_PAID, Purpose.SHIPPING, eur(695), eur(4691)),
        ("txn_02", TransactionKind.ORDER_PAID, Purpose.ORDER_FEE, eur(-50), eur(4641)),
        ("txn_03", TransactionKind.REFUND, Purpose.SALE, eur(-2500), eur(2141)),
        ("txn_03", TransactionKind.REFUND, Purpose.COMMISSION, eur(250), eur(2391)),
        ("txn_04", TransactionKind.PAYOUT, Purpose.PAYOUT, eur(-1000), eur(1391)),
    ]
    assert [x.reference for x in s.lines][-3:] == ["ref_1", "ref_1", "po_1"]
    assert s.lines[0].date == date(2025, 2, 3)
    assert s.closing_balance == eur(1391)


def test_statement_days_are_utc_dates() -> None:
    # given a fee posted at 00:30 on 1 February in Amsterdam: still 31 January in UTC
    posted = datetime(2025, 2, 1, 0, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
    fee = post_listing_fees(
        "sel_a", eur(10), date(2025, 1, 1), transaction_id="t", posted_at=posted
    )
    # when
    s = statement("sel_a", date(2025, 2, 1), date(2025, 2, 28), [fee], currency="EUR")
    # then
    assert s.lines == ()
    assert s.opening_balance == eur(-10)


def test_period_end_before_start_is_refused() -> None:
    with pytest.raises(ValidationFailed) as failed:
        statement("sel_a", date(2025, 2, 2), date(2025, 2, 1), [], currency="EUR")
    assert failed.value.errors[0].field == "period_end"


def test_csv_export_has_stable_columns_and_exact_amounts() -> None:
    # given
    s = statement("sel_a", date(2025, 2, 1), date(2025, 2, 28), february_ledger(), currency="EUR")
    # when
    text = to_csv(s)
    # then
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1] == ["2025-02-01", "", "opening_balance", "", "", "", "", "EUR", "-5.04", "-504"]
    assert rows[2] == [
        *("2025-02-03", "txn_02", "order_paid", "ord_1", "sale"),
        *("50.00", "5000", "EUR", "44.96", "4496"),
    ]
    assert rows[-1] == ["2025-02-28", "", "closing_balance", "", "", "", "", "EUR", "13.91", "1391"]
    assert len(rows) == 1 + 1 + len(s.lines) + 1
    assert text.endswith("\r\n")


def test_json_export_carries_minor_units_and_decimals() -> None:
    # given
    s = statement("sel_a", date(2025, 2, 1), date(2025, 2, 28), february_ledger(), currency="EUR")
    # when
    data = to_json(s)
    # then
    assert data["opening_balance"] == {"amount": -504, "currency": "EUR", "decimal": "-5.04"}
    assert data["closing_balance"] == {"amount": 1391, "currency": "EUR", "decimal": "13.91"}
    lines = data["lines"]
    assert isinstance(lines, list)
    assert lines[-1] == {
        "date": "2025-02-10",
        "transaction_id": "txn_04",
        "kind": "payout",
        "reference": "po_1",
        "description": "payout",
        "amount": {"amount": -1000, "currency": "EUR", "decimal": "-10.00"},
        "balance": {"amount": 1391, "currency": "EUR", "decimal": "13.91"},
    }
    assert list(data) == [
        "seller_id",
        "currency",
        "period_start",
        "period_end",
        "opening_balance",
        "lines",
        "closing_balance",
    ]


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(-5, "EUR"), "-0.05"),
        (Money(123450, "EUR"), "1234.50"),
        (Money(500, "JPY"), "500"),
        (Money(1234, "KWD"), "1.234"),
        (Money(0, "EUR"), "0.00"),
    ],
)
def test_format_decimal(money: Money, text: str) -> None:
    assert format_decimal(money) == text


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=20),
    days=st.data(),
)
def test_consecutive_statements_chain_and_match_the_ledger(
    amounts: list[int], days: st.DataObject
) -> None:
    # given fees and payouts spread over January to March
    start = date(2025, 1, 1)
    ledger = []
    for i, amount in enumerate(amounts):
        posted = at(start + timedelta(days=days.draw(st.integers(0, 89))))
        if i % 2:
            ledger.append(
                post_payout(
                    "sel_a", eur(amount), f"po_{i}", transaction_id=f"t{i}", posted_at=posted
                )
            )
        else:
            ledger.append(
                post_listing_fees(
                    "sel_a",
                    eur(amount),
                    date(2025, 1 + i % 3, 1),
                    transaction_id=f"t{i}",
                    posted_at=posted,
                )
            )
    # when
    periods = [(date(2025, 1, 1), date(2025, 1, 31)), (date(2025, 2, 1), date(2025, 3, 31))]
    january, rest = (statement("sel_a", a, b, ledger, currency="EUR") for a, b in periods)
    # then
    assert january.opening_balance == eur(0)
    assert rest.opening_balance == january.closing_balance
    for s in (january, rest):
        running = s.opening_balance
        for line in s.lines:
            running = running + line.amount
            assert line.balance == running
        assert s.closing_balance == running
    assert rest.closing_balance == balance(ledger, seller_payable("sel_a"), "EUR")
