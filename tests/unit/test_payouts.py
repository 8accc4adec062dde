"""Payout runs: held funds, negative carry-forward, suspended sellers, idempotency, states."""

from __future__ import annotations

import calendar
import random
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.fees.ledger import reverse
from bazaar.fees.model import (
    CommissionSchedule,
    FeeSchedule,
    PaidLine,
    PaidOrder,
    PaidShipping,
)
from bazaar.fees.payable import PayableEntry, hold_within_return_window, payable_entries
from bazaar.fees.payouts import (
    CarriedBalance,
    HeldFunds,
    HoldReason,
    IllegalPayoutTransition,
    PayoutBatch,
    PayoutStatus,
    SellerStatus,
    next_run_date,
    plan_payout_run,
)
from bazaar.fees.postings import (
    post_cancellation,
    post_listing_fees,
    post_order_paid,
    post_payout,
    post_payout_paid,
)
from bazaar.kernel.errors import Conflict, CurrencyMismatch, ValidationFailed
from bazaar.kernel.money import Money

RUN_DAY = date(2025, 3, 10)
ACTIVE = SellerStatus.ACTIVE


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def sale(
    tid: str, amount: int, delivered: date | None, seller: str = "sel_a", posted: int = 1
) -> PayableEntry:
    return PayableEntry(tid, seller, eur(amount), date(2025, 3, posted), True, delivered)


def march(day: int | None) -> date | None:
    return date(2025, 3, day) if day is not None else None


def fee(tid: str, amount: int, seller: str = "sel_a", posted: int = 2) -> PayableEntry:
    return PayableEntry(tid, seller, eur(-amount), date(2025, 3, posted))


def plan(
    entries: list[PayableEntry],
    *,
    sellers: dict[str, SellerStatus] | None = None,
    carried: dict[str, Money] | None = None,
    minimum: int = 0,
    run_id: str = "run_2025-03-10",
) -> PayoutBatch:
    return plan_payout_run(
        run_id,
        RUN_DAY,
        sellers=sellers or {"sel_a": ACTIVE, "sel_b": ACTIVE},
        entries=entries,
        hold_days=7,
        minimum_payout=eur(minimum),
        carried=carried,
    )


def test_sales_wait_for_delivery_plus_the_hold_period() -> None:
    # given one sale released on 8 March, one on 12 March, one not delivered, and a fee
    entries = [
        sale("t1", 10000, date(2025, 3, 1)),
        sale("t2", 2000, date(2025, 3, 5)),
        sale("t3", 3000, None),
        fee("t4", 504),
    ]
    # when
    batch = plan(entries)
    # then
    [item] = batch.items
    assert (item.seller_id, item.amount, item.covered_transaction_ids) == (
        "sel_a",
        eur(10000 - 504),
        ("t1", "t4"),
    )
    assert batch.held == (
        HeldFunds("sel_a", HoldReason.IN_HOLD_PERIOD, eur(2000), ("t2",), date(2025, 3, 12)),
        HeldFunds("sel_a", HoldReason.AWAITING_DELIVERY, eur(3000), ("t3",)),
    )
    assert batch.carried_forward == ()
    assert batch.total == eur(9496)


def test_negative_balance_is_carried_into_the_next_run() -> None:
    # given a seller whose fees exceed what is available
    first = plan([sale("t1", 300, date(2025, 2, 1)), fee("t2", 1000), sale("t3", 5000, None)])
    # then nothing is paid, the net is carried forward and those movements are settled
    assert first.items == ()
    assert first.carried_forward == (CarriedBalance("sel_a", eur(-700), ("t1", "t2")),)
    assert HeldFunds("sel_a", HoldReason.NEGATIVE_BALANCE, eur(-700), ("t1", "t2")) in first.held
    # when the next run starts from it and the held sale has been delivered
    second = plan([sale("t3", 5000, date(2025, 3, 2))], carried=first.carried())
    # then the debt is netted off the payout
    [item] = second.items
    assert (item.amount, item.carried_in, item.covered_transaction_ids) == (
        eur(4300),
        eur(-700),
        ("t3",),
    )
    assert second.carried() == {}


def test_suspended_seller_is_held_and_nothing_is_settled() -> None:
    # given
    entries = [sale("t1", 10000, date(2025, 3, 1)), sale("t2", 500, date(2025, 3, 1), "sel_b")]
    sellers = {"sel_a": SellerStatus.SUSPENDED, "sel_b": ACTIVE}
    # when
    batch = plan(entries, sellers=sellers, carried={"sel_a": eur(-100)})
    # then
    assert [i.seller_id for i in batch.items] == ["sel_b"]
    assert batch.held == (HeldFunds("sel_a", HoldReason.SUSPENDED, eur(9900), ("t1",)),)
    assert batch.carried_forward == (CarriedBalance("sel_a", eur(-100)),)


def test_amounts_below_the_minimum_wait() -> None:
    # when
    batch = plan([sale("t1", 999, date(2025, 3, 1))], minimum=1000)
    # then
    assert batch.items == ()
    assert batch.held == (HeldFunds("sel_a", HoldReason.BELOW_MINIMUM, eur(999), ("t1",)),)
    # and exactly the minimum is paid
    assert plan([sale("t1", 1000, date(2025, 3, 1))], minimum=1000).total == eur(1000)


def test_idempotency_keys_are_stable_and_specific() -> None:
    # given
    entries = [sale("t1", 10000, date(2025, 3, 1)), fee("t2", 5), sale("t3", 7, None)]
    # when
    first, again = plan(entries), plan(list(reversed(entries)))
    other_run = plan(entries, run_id="run_2025-03-17")
    more = plan([*entries, fee("t9", 1)])
    # then
    key = first.items[0].idempotency_key
    assert len(key) == 64
    assert again == first
    assert other_run.items[0].idempotency_key != key
    assert more.items[0].idempotency_key != key


@given(
    amounts=st.lists(st.integers(min_value=-5000, max_value=20000), min_size=1, max_size=12),
    delivered=st.lists(st.sampled_from([None, 1, 5, 9]), min_size=12, max_size=12),
    sellers=st.lists(st.sampled_from(["sel_a", "sel_b", "sel_c"]), min_size=12, max_size=12),
    suspended=st.sets(st.sampled_from(["sel_a", "sel_b", "sel_c"])),
    minimum=st.integers(min_value=0, max_value=3000),
    order=st.randoms(use_true_random=False),
)
def test_every_movement_is_accounted_for_once_and_plans_are_deterministic(
    amounts: list[int],
    delivered: list[int | None],
    sellers: list[str],
    suspended: set[str],
    minimum: int,
    order: random.Random,
) -> None:
    # given
    entries = [
        PayableEntry(
            f"t{i}",
            sellers[i],
            eur(amount) if amount else eur(1),
            date(2025, 3, 1),
            awaits_delivery=amount > 0,
            delivered_on=march(delivered[i]),
        )
        for i, amount in enumerate(amounts)
    ]
    statuses = {
        s: SellerStatus.SUSPENDED if s in suspended else ACTIVE for s in ("sel_a", "sel_b", "sel_c")
    }
    # when
    batch = plan(entries, sellers=statuses, minimum=minimum)
    shuffled = list(entries)
    order.shuffle(shuffled)
    # then
    assert plan(shuffled, sellers=statuses, minimum=minimum) == batch
    seen = Counter(
        [
            *(tid for i in batch.items for tid in i.covered_transaction_ids),
            *(tid for c in batch.carried_forward for tid in c.settled_transaction_ids),
            *(
                tid
                for h in batch.held
                if h.reason is not HoldReason.NEGATIVE_BALANCE
                for tid in h.transaction_ids
            ),
        ]
    )
    assert seen == Counter(e.transaction_id for e in entries)
    for item in batch.items:
        assert item.amount >= eur(minimum)
        assert item.amount.amount > 0
        assert statuses[item.seller_id] is ACTIVE


# -- reading the ledger -------------------------------------------------------------------

FEES = FeeSchedule(
    commission=CommissionSchedule("EUR", Decimal("0.10")),
    order_fee=eur(0),
    monthly_listing_fee=eur(0),
)


def order(order_id: str) -> PaidOrder:
    return PaidOrder(
        order_id,
        "EUR",
        at(date(2025, 3, 1)),
        (PaidLine("oln_1", "sel_a", "cat_x", 1, eur(10000), eur(2100), eur(12100)),),
        (PaidShipping("sel_a", "sel_a", eur(0), eur(0), eur(0)),),
    )


def test_payable_entries_follow_orders_and_skip_payouts() -> None:
    # given a delivered order, a cancelled one, a fee and a failed payout
    delivered, cancelled = order("ord_1"), order("ord_2")
    paid_1 = post_order_paid(delivered, FEES, transaction_id="t1")
    paid_2 = post_order_paid(cancelled, FEES, transaction_id="t2")
    cancel = post_cancellation(
        paid_2, cancelled, refund_id="ref_1", cancelled_at=at(date(2025, 3, 2)), transaction_id="t3"
    )
    fee = post_listing_fees(
        "sel_a", eur(300), date(2025, 3, 1), transaction_id="t4", posted_at=at(date(2025, 3, 2))
    )
    payout = post_payout(
        "sel_a", eur(50), "po_1", transaction_id="t5", posted_at=at(date(2025, 3, 3))
    )
    failed = reverse(payout, transaction_id="t6", posted_at=at(date(2025, 3, 4)))
    settled = post_payout_paid(payout, transaction_id="t7", posted_at=at(date(2025, 3, 4)))
    ledger = [paid_1, paid_2, cancel, fee, payout, failed, settled]
    # when; ord_2's fulfillment ended (cancelled) on 5 March
    entries = payable_entries(
        ledger,
        delivered_on={("ord_1", "sel_a"): date(2025, 3, 1), ("ord_2", "sel_a"): date(2025, 3, 5)},
        settled=[("sel_a", "t4")],
    )
    # then
    assert entries == [
        PayableEntry("t1", "sel_a", eur(9000), date(2025, 3, 1), True, date(2025, 3, 1)),
        PayableEntry("t2", "sel_a", eur(9000), date(2025, 3, 1), True, date(2025, 3, 5)),
        PayableEntry("t3", "sel_a", eur(-9000), date(2025, 3, 2), True, date(2025, 3, 5)),
    ]
    # and the cancelled sale and its cancellation are held, and released, together
    batch = plan(entries)
    assert [(i.amount, i.covered_transaction_ids) for i in batch.items] == [(eur(9000), ("t1",))]
    assert batch.held == (
        HeldFunds("sel_a", HoldReason.IN_HOLD_PERIOD, eur(0), ("t2", "t3"), date(2025, 3, 12)),
    )


# -- validation ---------------------------------------------------------------------------


def test_run_input_is_validated() -> None:
    with pytest.raises(ValidationFailed) as failed:
        plan_payout_run(
            "run_1",
            RUN_DAY,
            sellers={"sel_a": ACTIVE},
            entries=[fee("t1", 5, seller="sel_zz")],
            hold_days=-1,
            minimum_payout=eur(-1),
            carried={"sel_a": eur(5), "sel_q": eur(-5)},
        )
    assert [e.field for e in failed.value.errors] == [
        "hold_days",
        "minimum_payout",
        "entries[0].seller_id",
        "carried[sel_a]",
        "carried[sel_q]",
    ]
    with pytest.raises(CurrencyMismatch):
        plan([PayableEntry("t1", "sel_a", Money(5, "USD"), RUN_DAY)])


# -- states -------------------------------------------------------------------------------


def test_payout_states_and_retries() -> None:
    # given a proposed batch
    batch = plan([sale("t1", 10000, date(2025, 3, 1)), sale("t2", 100, date(2025, 3, 1), "sel_b")])
    key_a, key_b = (i.idempotency_key for i in batch.items)
    # then nothing is paid before the operator confirms
    with pytest.raises(IllegalPayoutTransition):
        batch.mark_paid(key_a, "bank_1")
    # when
    confirmed = batch.confirm()
    assert confirmed.confirm() == confirmed
    done = confirmed.mark_paid(key_a, "bank_1").mark_failed(key_b, "account closed")
    # then
    assert [i.status for i in done.items] == [PayoutStatus.PAID, PayoutStatus.FAILED]
    assert done.mark_paid(key_a, "bank_1") == done  # a retried confirmation changes nothing
    with pytest.raises(Conflict):
        done.mark_paid(key_a, "bank_2")
    with pytest.raises(Conflict):
        done.mark_paid(key_b, "bank_3")
    with pytest.raises(Conflict):
        done.items[0].mark_failed("late")
    with pytest.raises(ValidationFailed):
        done.mark_paid("nope", "bank_1")


@pytest.mark.parametrize(
    ("after", "weekday", "expected"),
    [
        (date(2025, 3, 10), calendar.MONDAY, date(2025, 3, 17)),  # a Monday: next week's
        (date(2025, 3, 12), calendar.MONDAY, date(2025, 3, 17)),
        (date(2025, 3, 16), calendar.MONDAY, date(2025, 3, 17)),
        (date(2025, 3, 12), calendar.FRIDAY, date(2025, 3, 14)),
        (date(2025, 12, 29), calendar.FRIDAY, date(2026, 1, 2)),
    ],
)
def test_next_run_date(after: date, weekday: int, expected: date) -> None:
    assert next_run_date(after, weekday) == expected


def test_next_run_date_refuses_a_bad_weekday() -> None:
    with pytest.raises(ValidationFailed):
        next_run_date(RUN_DAY, 7)


@pytest.mark.parametrize(
    ("hold_days", "window_days", "applied"),
    [
        (14, 30, 14),  # paid before returns close; a later return is netted off
        (45, 30, 31),  # nothing to hold for once no return can come back
        (14, None, 14),
        (0, 0, 0),
    ],
)
def test_the_hold_never_outlasts_the_return_window(
    hold_days: int, window_days: int | None, applied: int
) -> None:
    assert hold_within_return_window(hold_days, window_days) == applied
