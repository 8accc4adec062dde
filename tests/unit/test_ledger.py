"""The ledger and the postings: balanced transactions, exact refunds, reversals, checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bazaar.fees.ledger import (
    BANK,
    COMMISSION_REVENUE,
    CUSTOMER_PAYMENTS_CLEARING,
    LISTING_FEE_REVENUE,
    ORDER_FEE_REVENUE,
    PAYOUTS_IN_TRANSIT,
    REFUNDS_PAYABLE,
    RETAILER_SALES_REVENUE,
    VAT_PAYABLE,
    Account,
    AccountKind,
    Entry,
    Purpose,
    Side,
    Transaction,
    TransactionKind,
    UnbalancedTransaction,
    balance,
    balances,
    check_ledger,
    reverse,
    seller_payable,
)
from bazaar.fees.model import (
    CommissionBasis,
    CommissionSchedule,
    FeeSchedule,
    PaidLine,
    PaidOrder,
    PaidShipping,
    Refund,
    RefundUnits,
)
from bazaar.fees.postings import (
    post_cancellation,
    post_listing_fees,
    post_order_paid,
    post_payout,
    post_payout_paid,
    post_refund,
    post_refund_paid,
)
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money, sum_money
from bazaar.orders.events import LineQuantity, RefundIssued
from bazaar.orders.model import Order, OrderLine, ShippingLine

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
SEL_A = seller_payable("sel_a")


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def fee_schedule(
    rate: str = "0.10", minimum: int = 0, order_fee: int = 50, basis: str = "net_after_discount"
) -> FeeSchedule:
    return FeeSchedule(
        commission=CommissionSchedule(
            "EUR",
            Decimal(rate),
            minimum_per_line=eur(minimum),
            basis=CommissionBasis(basis),
        ),
        order_fee=eur(order_fee),
        monthly_listing_fee=eur(1000),
    )


def line(
    line_id: str, seller: str | None, quantity: int, net: int, tax: int, category: str = "cat_x"
) -> PaidLine:
    return PaidLine(line_id, seller, category, quantity, eur(net), eur(tax), eur(net + tax))


def shipping(fulfiller: str, seller: str | None, net: int, tax: int) -> PaidShipping:
    return PaidShipping(fulfiller, seller, eur(net), eur(tax), eur(net + tax))


def mixed_order() -> PaidOrder:
    # 2 mugs from sel_a (50.00 net, 21 % VAT), 3 tees from the retailer, both shipped
    return PaidOrder(
        "ord_1",
        "EUR",
        T0,
        (line("oln_1", "sel_a", 2, 5000, 1050), line("oln_2", None, 3, 3000, 630)),
        (shipping("sel_a", "sel_a", 695, 146), shipping("retailer", None, 495, 104)),
    )


def refunded(order: PaidOrder, refund: Refund) -> PaidOrder:
    """The order as the orders context sees it after ``refund``."""
    units = {u.line_id: u.units for u in refund.lines}
    return replace(
        order,
        lines=tuple(
            replace(x, refunded_quantity=x.refunded_quantity + units.get(x.line_id, 0))
            for x in order.lines
        ),
        shipping=tuple(
            replace(s, refunded=s.refunded or s.fulfiller_id in refund.shipping_for)
            for s in order.shipping
        ),
    )


def customer_share(x: PaidLine, units: int) -> Money:
    """What the orders model refunds for the next ``units`` units of ``x``."""
    start = x.refunded_quantity
    return sum_money(x.gross.split(x.quantity)[start : start + units], "EUR")


def nonzero(transactions: Iterable[Transaction]) -> dict[tuple[Account, str], Money]:
    return {k: v for k, v in balances(transactions).items() if not v.is_zero()}


# -- posting an order ---------------------------------------------------------------------


def test_order_paid_posts_every_party_its_share() -> None:
    # given 10 % commission and a 0.50 order fee
    order = mixed_order()
    # when
    paid = post_order_paid(order, fee_schedule(), transaction_id="txn_1")
    # then
    assert paid.kind is TransactionKind.ORDER_PAID
    assert paid.reference == "ord_1"
    assert nonzero([paid]) == {
        (CUSTOMER_PAYMENTS_CLEARING, "EUR"): eur(6050 + 3630 + 841 + 599),
        (VAT_PAYABLE, "EUR"): eur(1050 + 630 + 146 + 104),
        (SEL_A, "EUR"): eur(5000 - 500 + 695 - 50),
        (COMMISSION_REVENUE, "EUR"): eur(500),
        (ORDER_FEE_REVENUE, "EUR"): eur(50),
        (RETAILER_SALES_REVENUE, "EUR"): eur(3000 + 495),
    }


def test_seller_entries_show_sale_commission_shipping_and_fee_separately() -> None:
    # when
    paid = post_order_paid(mixed_order(), fee_schedule(), transaction_id="txn_1")
    # then
    seller = [(e.item, e.purpose, e.signed) for e in paid.entries if e.account == SEL_A]
    assert seller == [
        ("oln_1", Purpose.SALE, eur(-5000)),
        ("oln_1", Purpose.COMMISSION, eur(500)),
        ("shipping:sel_a", Purpose.SHIPPING, eur(-695)),
        ("order_fee:sel_a", Purpose.ORDER_FEE, eur(50)),
    ]


def test_first_party_only_order_charges_no_fees() -> None:
    # given
    order = PaidOrder("ord_2", "EUR", T0, (line("oln_1", None, 1, 1000, 210),))
    # when
    paid = post_order_paid(order, fee_schedule(), transaction_id="txn_2")
    # then
    assert nonzero([paid]) == {
        (CUSTOMER_PAYMENTS_CLEARING, "EUR"): eur(1210),
        (VAT_PAYABLE, "EUR"): eur(210),
        (RETAILER_SALES_REVENUE, "EUR"): eur(1000),
    }


# -- refunds ------------------------------------------------------------------------------


def test_partial_refunds_return_commission_and_finally_the_order_fee() -> None:
    # given
    order = mixed_order()
    paid = post_order_paid(order, fee_schedule(), transaction_id="txn_1")
    first = Refund("ref_1", T0 + timedelta(days=1), (RefundUnits("oln_1", 1),))
    # when one of two mugs comes back
    one = post_refund(paid, order, first, transaction_id="txn_2")
    # then half of the line is reversed; the order fee stays
    assert one.original_id == "txn_1"
    assert nonzero([one]) == {
        (REFUNDS_PAYABLE, "EUR"): eur(3025),
        (VAT_PAYABLE, "EUR"): eur(-525),
        (SEL_A, "EUR"): eur(-2500 + 250),
        (COMMISSION_REVENUE, "EUR"): eur(-250),
    }
    # when the other mug and the seller's shipping come back
    order = refunded(order, first)
    second = Refund("ref_2", T0 + timedelta(days=2), (RefundUnits("oln_1", 1),), ("sel_a",))
    two = post_refund(paid, order, second, transaction_id="txn_3")
    # then the order fee goes back too, and the seller is back to zero
    assert balance([two], ORDER_FEE_REVENUE, "EUR") == eur(-50)
    assert balance([paid, one, two], SEL_A, "EUR") == eur(0)
    assert balance([paid, one, two], COMMISSION_REVENUE, "EUR") == eur(0)


def test_refund_amounts_agree_with_the_orders_model_to_the_cent() -> None:
    # given an order whose line total does not split evenly over its units
    order_line = OrderLine(
        id="oln_1",
        offer_id="off_1",
        sku="MUG",
        product_id="prd_1",
        fulfiller_id="sel_a",
        category_id="cat_x",
        quantity=3,
        unit_price=eur(333),
        discount=eur(0),
        tax=eur(210),
        tax_rate=Decimal("0.21"),
        total=eur(1209),
    )
    order = (
        Order.place(
            id="ord_1",
            customer_id=None,
            email="a@example.com",
            currency="EUR",
            prices_include_tax=False,
            lines=[order_line],
            shipping=[ShippingLine("sel_a", eur(500), eur(105), Decimal("0.21"), eur(605))],
        )
        .value.mark_paid("pay_1", eur(1814))
        .value
    )
    paid_order = PaidOrder(
        "ord_1",
        "EUR",
        T0,
        (line("oln_1", "sel_a", 3, 999, 210),),
        (shipping("sel_a", "sel_a", 500, 105),),
    )
    paid = post_order_paid(paid_order, fee_schedule(), transaction_id="txn_1")
    # when the customer gets back one unit, then two units and the shipping
    steps = [((1,), ()), ((2,), ("sel_a",))]
    for n, (units, ship) in enumerate(steps):
        changed = order.refund(
            f"ref_{n}", [LineQuantity("oln_1", units[0])], reason="r", shipping_for=ship
        )
        [issued] = changed.events
        assert isinstance(issued, RefundIssued)
        refund = Refund(f"ref_{n}", T0, (RefundUnits("oln_1", units[0]),), ship)
        posted = post_refund(paid, paid_order, refund, transaction_id=f"txn_r{n}")
        # then
        assert balance([posted], REFUNDS_PAYABLE, "EUR") == issued.amount
        order, paid_order = changed.value, refunded(paid_order, refund)


def test_cancellation_refunds_everything_left() -> None:
    # given one mug already refunded
    order = mixed_order()
    paid = post_order_paid(order, fee_schedule(), transaction_id="txn_1")
    first = Refund("ref_1", T0, (RefundUnits("oln_1", 1),))
    one = post_refund(paid, order, first, transaction_id="txn_2")
    # when the order is cancelled
    cancelled = post_cancellation(
        paid, refunded(order, first), refund_id="ref_2", cancelled_at=T0, transaction_id="txn_3"
    )
    # then together they mirror the payment, clearing replaced by refunds payable
    assert cancelled.kind is TransactionKind.CANCELLATION
    assert nonzero([paid, one, cancelled]) == {
        (CUSTOMER_PAYMENTS_CLEARING, "EUR"): eur(11120),
        (REFUNDS_PAYABLE, "EUR"): eur(11120),
    }
    # and once the gateway has paid it back, nothing is left anywhere
    ledger = [paid, one, cancelled]
    ledger += [
        post_refund_paid(t, transaction_id=f"{t.id}_paid", posted_at=T0) for t in (one, cancelled)
    ]
    assert nonzero(ledger) == {}
    assert check_ledger(ledger) == []


def test_refund_refuses_what_cannot_be_refunded() -> None:
    # given
    order = mixed_order()
    paid = post_order_paid(order, fee_schedule(), transaction_id="txn_1")
    refund = Refund(
        "ref_1",
        T0,
        (RefundUnits("oln_1", 3), RefundUnits("oln_9", 1), RefundUnits("oln_2", 0)),
        ("sel_a", "sel_b", "sel_a"),
    )
    # when
    with pytest.raises(ValidationFailed) as failed:
        post_refund(paid, order, refund, transaction_id="txn_2")
    # then
    assert [e.field for e in failed.value.errors] == [
        "lines[0].units",
        "lines[1].line_id",
        "lines[2].units",
        "shipping_for[1]",
        "shipping_for[2]",
    ]


def test_refund_needs_the_payment_of_the_same_order() -> None:
    order = mixed_order()
    paid = post_order_paid(order, fee_schedule(), transaction_id="txn_1")
    other = replace(order, order_id="ord_other")
    with pytest.raises(ValueError, match="not the payment"):
        post_refund(
            paid, other, Refund("ref_1", T0, (RefundUnits("oln_1", 1),)), transaction_id="t"
        )


# -- properties over random orders --------------------------------------------------------

SELLERS = (None, "sel_a", "sel_b")


@st.composite
def orders_and_fees(draw: st.DrawFn) -> tuple[PaidOrder, FeeSchedule]:
    lines = []
    for i in range(draw(st.integers(min_value=1, max_value=4))):
        net = draw(st.integers(min_value=0, max_value=10**6))
        lines.append(
            line(
                f"oln_{i}",
                draw(st.sampled_from(SELLERS)),
                draw(st.integers(min_value=1, max_value=7)),
                net,
                draw(st.integers(min_value=0, max_value=net // 3)),
                draw(st.sampled_from(["cat_a", "cat_b"])),
            )
        )
    fulfillers = dict.fromkeys(x.seller_id for x in lines)
    ships = [
        shipping(
            seller or "retailer", seller, draw(st.integers(0, 2000)), draw(st.integers(0, 400))
        )
        for seller in fulfillers
        if draw(st.booleans())
    ]
    fees = fee_schedule(
        rate=str(draw(st.decimals(min_value=0, max_value=1, places=3))),
        minimum=draw(st.integers(min_value=0, max_value=500)),
        order_fee=draw(st.integers(min_value=0, max_value=500)),
        basis=draw(st.sampled_from(list(CommissionBasis))),
    )
    return PaidOrder("ord_1", "EUR", T0, tuple(lines), tuple(ships)), fees


@given(orders_and_fees())
def test_every_order_posting_balances_and_collects_the_total(
    case: tuple[PaidOrder, FeeSchedule],
) -> None:
    # given
    order, fees = case
    # when
    paid = post_order_paid(order, fees, transaction_id="txn_1")
    # then
    total = sum_money([*(x.gross for x in order.lines), *(s.gross for s in order.shipping)], "EUR")
    tax = sum_money([*(x.tax for x in order.lines), *(s.tax for s in order.shipping)], "EUR")
    assert paid.imbalances() == {}
    assert balance([paid], CUSTOMER_PAYMENTS_CLEARING, "EUR") == total
    assert balance([paid], VAT_PAYABLE, "EUR") == tax
    assert all(e.amount.amount > 0 for e in paid.entries)


@settings(max_examples=150)
@given(case=orders_and_fees(), data=st.data())
def test_refunding_every_unit_in_any_steps_restores_every_balance(
    case: tuple[PaidOrder, FeeSchedule], data: st.DataObject
) -> None:
    # given a ledger with history, and an order paid on top of it
    order, fees = case
    history = [
        post_listing_fees(
            "sel_a", eur(1234), date(2025, 2, 1), transaction_id="t_fee", posted_at=T0
        )
    ]
    paid = post_order_paid(order, fees, transaction_id="t_paid")
    ledger = [*history, paid]
    # when every unit and shipping charge comes back over some refunds, maybe ending in a
    # cancellation, and the gateway pays each refund
    rounds = data.draw(st.integers(min_value=1, max_value=4))
    unit_rounds = {
        x.line_id: [data.draw(st.integers(0, rounds - 1)) for _ in range(x.quantity)]
        for x in order.lines
    }
    ship_rounds = {s.fulfiller_id: data.draw(st.integers(0, rounds - 1)) for s in order.shipping}
    cancel_last = data.draw(st.booleans())
    for r in range(rounds):
        tid = f"t_r{r}"
        nothing_left = all(x.refunded_quantity == x.quantity for x in order.lines) and all(
            s.refunded for s in order.shipping
        )
        if cancel_last and r == rounds - 1:
            if nothing_left:
                continue
            posted = post_cancellation(
                paid, order, refund_id=f"ref_{r}", cancelled_at=T0, transaction_id=tid
            )
        else:
            units = tuple(
                RefundUnits(line_id, rs.count(r)) for line_id, rs in unit_rounds.items() if r in rs
            )
            ship = tuple(f for f, sr in ship_rounds.items() if sr == r)
            if not units and not ship:
                continue
            refund = Refund(f"ref_{r}", T0, units, ship)
            posted = post_refund(paid, order, refund, transaction_id=tid)
            # then each refund returns exactly the orders model's per-unit amounts
            expected = sum_money(
                [
                    *(customer_share(order.line(u.line_id), u.units) for u in units),
                    *(s.gross for s in order.shipping if s.fulfiller_id in ship),
                ],
                "EUR",
            )
            assert balance([posted], REFUNDS_PAYABLE, "EUR") == expected
            order = refunded(order, refund)
        assert posted.imbalances() == {}
        ledger.append(posted)
        if posted.entries:
            ledger.append(post_refund_paid(posted, transaction_id=f"{tid}_paid", posted_at=T0))
    # then every account is exactly where it was before the order
    assert nonzero(ledger) == nonzero(history)
    assert check_ledger(ledger) == []


# -- the ledger itself --------------------------------------------------------------------


def entry(account: Account, side: Side, amount: int, currency: str = "EUR") -> Entry:
    return Entry(account, side, Money(amount, currency), Purpose.ADJUSTMENT)


def test_unbalanced_transaction_is_refused_per_currency() -> None:
    # given debits and credits that match in total but not per currency
    entries = (
        entry(BANK, Side.DEBIT, 100, "EUR"),
        entry(VAT_PAYABLE, Side.CREDIT, 100, "USD"),
    )
    # when / then
    with pytest.raises(UnbalancedTransaction) as failed:
        Transaction("txn_1", TransactionKind.ADJUSTMENT, "fix", T0, entries)
    assert failed.value.errors[0].field == "entries"


def test_balanced_multi_currency_transaction_is_accepted() -> None:
    entries = (
        entry(BANK, Side.DEBIT, 100, "EUR"),
        entry(VAT_PAYABLE, Side.CREDIT, 100, "EUR"),
        entry(BANK, Side.DEBIT, 7, "USD"),
        entry(VAT_PAYABLE, Side.CREDIT, 7, "USD"),
    )
    t = Transaction("txn_1", TransactionKind.ADJUSTMENT, "fix", T0, entries)
    assert balance([t], BANK, "USD") == Money(7, "USD")


def test_entries_must_be_positive_and_times_zoned() -> None:
    with pytest.raises(ValidationFailed):
        entry(BANK, Side.DEBIT, 0)
    with pytest.raises(ValueError, match="time zone"):
        Transaction("t", TransactionKind.ADJUSTMENT, "x", datetime(2025, 1, 1), ())


@given(orders_and_fees())
def test_reversing_twice_gives_back_the_original(case: tuple[PaidOrder, FeeSchedule]) -> None:
    # given
    order, fees = case
    paid = post_order_paid(order, fees, transaction_id="t1")
    # when
    once = reverse(paid, transaction_id="t2", posted_at=T0)
    twice = reverse(once, transaction_id="t3", posted_at=T0)
    # then
    assert twice.entries == paid.entries
    assert nonzero([paid, once]) == {}
    assert nonzero([twice]) == nonzero([paid])
    assert check_ledger([paid, once, twice]) == []


def test_payout_moves_through_transit_and_a_failed_one_is_reversed() -> None:
    # given
    payout = post_payout("sel_a", eur(900), "po_1", transaction_id="t1", posted_at=T0)
    # when it is paid
    settled = post_payout_paid(payout, transaction_id="t2", posted_at=T0)
    # then
    assert nonzero([payout, settled]) == {(SEL_A, "EUR"): eur(-900), (BANK, "EUR"): eur(-900)}
    # and when another one fails, its reversal restores the seller's balance
    failed = post_payout("sel_a", eur(50), "po_2", transaction_id="t3", posted_at=T0)
    undone = reverse(failed, transaction_id="t4", posted_at=T0)
    assert nonzero([failed, undone]) == {}
    assert balance([failed], PAYOUTS_IN_TRANSIT, "EUR") == eur(50)


def test_listing_fees_posting() -> None:
    t = post_listing_fees("sel_a", eur(504), date(2025, 2, 1), transaction_id="t1", posted_at=T0)
    assert t.reference == "sel_a:2025-02"
    assert nonzero([t]) == {(SEL_A, "EUR"): eur(-504), (LISTING_FEE_REVENUE, "EUR"): eur(504)}
    with pytest.raises(ValidationFailed):
        post_listing_fees("sel_a", eur(0), date(2025, 2, 1), transaction_id="t2", posted_at=T0)


def codes(transactions: Sequence[Transaction]) -> list[tuple[str, str]]:
    return [(p.transaction_id, p.code) for p in check_ledger(transactions)]


def test_check_ledger_finds_what_is_wrong() -> None:
    # given a sound ledger
    order = mixed_order()
    paid = post_order_paid(order, fee_schedule(), transaction_id="t1")
    fee = post_listing_fees("sel_a", eur(5), date(2025, 2, 1), transaction_id="t2", posted_at=T0)
    sound = [paid, fee]
    assert codes(sound) == []
    # then each kind of damage is reported
    unbalanced = Transaction.restore(
        "t9", TransactionKind.ADJUSTMENT, "x", T0, [entry(BANK, Side.DEBIT, 5)]
    )
    assert codes([*sound, unbalanced]) == [("t9", "unbalanced")]
    assert codes([*sound, fee]) == [("t2", "duplicate_id")]
    again = post_listing_fees("sel_a", eur(5), date(2025, 2, 1), transaction_id="t3", posted_at=T0)
    assert codes([*sound, again]) == [("t3", "duplicate_reference")]
    orphan = reverse(fee, transaction_id="t4", posted_at=T0)
    assert codes([paid, orphan]) == [("t4", "missing_original")]
    second = reverse(fee, transaction_id="t5", posted_at=T0)
    assert codes([*sound, orphan, second]) == [("t5", "reversed_twice")]
    bent = Transaction.restore(
        "t6", TransactionKind.REVERSAL, "x", T0, list(fee.entries), original_id="t2"
    )
    assert codes([*sound, bent]) == [("t6", "not_a_mirror")]
    odd = Transaction.restore(
        "t7",
        TransactionKind.ADJUSTMENT,
        "x",
        T0,
        [entry(Account("bank", AccountKind.LIABILITY), Side.DEBIT, 5), entry(BANK, Side.CREDIT, 5)],
    )
    assert codes([*sound, odd]) == [("t7", "inconsistent_account")]


def test_check_ledger_catches_refunds_beyond_the_payment() -> None:
    # given the same units refunded twice from the same order state
    order = mixed_order()
    paid = post_order_paid(order, fee_schedule(), transaction_id="t1")
    everything_but_tees = (RefundUnits("oln_1", 2),), ("sel_a", "retailer")
    refunds = [
        post_refund(
            paid, order, Refund(f"ref_{n}", T0, *everything_but_tees), transaction_id=f"t{n}"
        )
        for n in (2, 3)
    ]
    tees = Refund("ref_4", T0, (RefundUnits("oln_2", 3),))
    extra = post_refund(paid, order, tees, transaction_id="t4")
    # then
    assert codes([paid, *refunds, extra]) == [("t4", "refund_exceeds_payment")]
    # and reversing the duplicate refund repairs it
    fixed = reverse(refunds[1], transaction_id="t5", posted_at=T0)
    assert codes([paid, *refunds, extra, fixed]) == []
