"""Payout runs against real orders and a clock the test moves, on SQLite and PostgreSQL.

The store's payout weekday is Monday and funds are held 7 days after delivery. The clock
starts on Saturday 2026-11-21 (tests/support/factories.T0).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.fees.ledger import BANK, PAYOUTS_IN_TRANSIT
from bazaar.fees.payouts import HoldReason, PayoutStatus
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.errors import Conflict
from tests.support.factories import Account, make_account, test_settings
from tests.support.marketplace import (
    balances,
    deliver,
    fulfillment_of,
    new_seller,
    offer,
    payable,
    place_order,
    set_fees,
    ship,
)

DAY = 86_400


@pytest.fixture
def market(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    settings = test_settings(
        db_url, tmp_path, payout_hold_days=7, payout_minimum=100, token_ttl_s=90 * DAY
    )
    container = build(settings, clock=clock)
    yield container
    container.close()


@pytest.fixture
def http(market: Container) -> Iterator[TestClient]:
    with TestClient(create_app(market, run_dispatcher=False)) as client:
        yield client


@pytest.fixture
def ops(market: Container) -> Account:
    return make_account(market, Role.OPERATOR)


class Directory:
    """A seller directory the test controls (the sellers context's port)."""

    def __init__(self, suspended: set[str]) -> None:
        self.suspended = suspended

    def statuses(self, seller_ids: Sequence[str]) -> Mapping[str, str]:
        return {s: "suspended" if s in self.suspended else "active" for s in seller_ids}


def _sold(market: Container, http: TestClient, ops: Account, seller: str) -> dict[str, Any]:
    order = place_order(http, [(offer(market, ops, fulfiller=seller, price=2500), 2)])
    market.dispatcher.drain()
    return order


def _deliver_seller_part(
    market: Container, http: TestClient, ops: Account, order: dict[str, Any], seller: str
) -> None:
    fulfillment = fulfillment_of(order, seller)
    ship(http, ops, fulfillment)
    deliver(http, ops, fulfillment)
    market.dispatcher.drain()


def _today(market: Container) -> date:
    return market.clock.now().date()


def test_sales_are_held_until_delivery_and_the_hold_period_then_paid_once(
    market: Container, http: TestClient, ops: Account, clock: FixedClock
) -> None:
    # Given a seller's sale, paid but not delivered
    seller = new_seller(market, ops)
    set_fees(market, ops, rate="0.10", order_fee=50)
    order = _sold(market, http, ops, seller)
    owed = payable(market, seller)
    assert owed > 0

    # When a run is planned before delivery, then the money is held awaiting delivery
    waiting, created = market.payouts.plan_run(ops.principal)
    assert created
    assert waiting.batch.items == ()
    assert [(h.seller_id, h.reason, h.amount.amount) for h in waiting.batch.held] == [
        (seller, HoldReason.AWAITING_DELIVERY, owed)
    ]

    # When it is delivered on Saturday and next Tuesday's run looks: still in its hold period
    _deliver_seller_part(market, http, ops, order, seller)
    clock.advance(3 * DAY)
    held, _ = market.payouts.plan_run(ops.principal)
    assert held.id != waiting.id  # a new week, a new run
    assert [(h.reason, h.available_on) for h in held.batch.held] == [
        (HoldReason.IN_HOLD_PERIOD, date(2026, 11, 28))
    ]

    # When the week after's run is planned and confirmed, the seller is paid what it is owed
    clock.advance(6 * DAY)
    run, created = market.payouts.plan_run(ops.principal)
    assert created
    assert [(i.seller_id, i.amount.amount) for i in run.batch.items] == [(seller, owed)]
    confirmed = market.payouts.confirm_run(ops.principal, run.id)
    assert confirmed.batch.items[0].status is PayoutStatus.CONFIRMED
    assert payable(market, seller) == 0
    assert balances(market)[PAYOUTS_IN_TRANSIT.code] == owed

    # And confirming again, or planning the same week again, pays nothing more
    assert market.payouts.confirm_run(ops.principal, run.id).batch == confirmed.batch
    again, created = market.payouts.plan_run(ops.principal)
    assert (again.id, created) == (run.id, False)
    report = market.ledger.check()
    assert report.ok, report.problems
    assert sum(1 for (code, _), _m in report.account_balances.items() if code == BANK.code) == 0

    # When the bank pays it (twice, as a retry would), the money leaves the bank once
    payout_id = confirmed.item_id(confirmed.batch.items[0])
    market.payouts.mark_paid(ops.principal, payout_id, "BANK-1")
    paid = market.payouts.mark_paid(ops.principal, payout_id, "BANK-1")
    assert paid.item.status is PayoutStatus.PAID
    got = balances(market)
    assert (got[PAYOUTS_IN_TRANSIT.code], got[BANK.code]) == (0, -owed)
    with pytest.raises(Conflict):
        market.payouts.mark_failed(ops.principal, payout_id, "too late")
    assert market.ledger.check().ok


def test_a_suspended_seller_is_held_until_reinstated(
    market: Container, http: TestClient, ops: Account, clock: FixedClock
) -> None:
    # Given a delivered sale past its hold period, of a seller the directory says is suspended
    seller = new_seller(market, ops)
    order = _sold(market, http, ops, seller)
    _deliver_seller_part(market, http, ops, order, seller)
    clock.advance(9 * DAY)
    directory = Directory({seller})
    market.seller_directory = directory

    # When a run is planned and confirmed, then nothing is paid and the money stays owed
    run, _ = market.payouts.plan_run(ops.principal)
    assert run.batch.items == ()
    assert [h.reason for h in run.batch.held] == [HoldReason.SUSPENDED]
    market.payouts.confirm_run(ops.principal, run.id)
    owed = payable(market, seller)
    assert owed > 0

    # When the seller is reinstated, next week's run pays all of it
    directory.suspended.clear()
    clock.advance(7 * DAY)
    later, _ = market.payouts.plan_run(ops.principal)
    assert [(i.seller_id, i.amount.amount) for i in later.batch.items] == [(seller, owed)]


def test_a_negative_balance_is_carried_into_the_next_payout(
    market: Container, http: TestClient, ops: Account, clock: FixedClock
) -> None:
    # Given a seller listing one offer since Saturday 21 November at 30.00 a month
    seller = new_seller(market, ops)
    set_fees(market, ops, rate="0.10", order_fee=0, listing_fee=3000)
    offer_id = offer(market, ops, fulfiller=seller, price=2500)

    # When November's fees are charged in December (10 of 30 days), the seller owes 10.00
    clock.advance(10 * DAY)
    charged = market.ledger.charge_listing_fees(date(2026, 11, 1))
    assert {s: m.amount for s, m in charged.items()} == {seller: 1000}
    assert market.ledger.charge_listing_fees(date(2026, 11, 1)) == {}  # once a month
    assert payable(market, seller) == -1000

    # And that week's run carries the negative balance forward instead of paying
    first, _ = market.payouts.plan_run(ops.principal)
    assert first.batch.items == ()
    assert [(c.seller_id, c.amount.amount) for c in first.batch.carried_forward] == [
        (seller, -1000)
    ]
    market.payouts.confirm_run(ops.principal, first.id)

    # When the seller then sells, delivers and the hold period passes
    order = place_order(http, [(offer_id, 2)])
    market.dispatcher.drain()
    _deliver_seller_part(market, http, ops, order, seller)
    sale = payable(market, seller) + 1000
    clock.advance(7 * DAY)

    # Then the next payout is the sale less what was carried
    second, _ = market.payouts.plan_run(ops.principal)
    item = second.batch.items[0]
    assert (item.amount.amount, item.carried_in.amount) == (sale - 1000, -1000)
    market.payouts.confirm_run(ops.principal, second.id)
    assert payable(market, seller) == 0
    assert market.ledger.check().ok


def test_a_failed_payout_is_reversed_and_paid_by_the_next_run(
    market: Container, http: TestClient, ops: Account, clock: FixedClock
) -> None:
    # Given a confirmed payout
    seller = new_seller(market, ops)
    order = _sold(market, http, ops, seller)
    _deliver_seller_part(market, http, ops, order, seller)
    owed = payable(market, seller)
    clock.advance(9 * DAY)
    run, _ = market.payouts.plan_run(ops.principal)
    confirmed = market.payouts.confirm_run(ops.principal, run.id)
    payout_id = confirmed.item_id(confirmed.batch.items[0])

    # When the bank refuses it (reported twice)
    market.payouts.mark_failed(ops.principal, payout_id, "account closed")
    failed = market.payouts.mark_failed(ops.principal, payout_id, "account closed")

    # Then the payout is reversed once and the seller is owed the money again
    assert failed.item.status is PayoutStatus.FAILED
    assert payable(market, seller) == owed
    assert balances(market)[PAYOUTS_IN_TRANSIT.code] == 0
    # And next week's run pays it again under a new key
    clock.advance(7 * DAY)
    retry, _ = market.payouts.plan_run(ops.principal)
    assert [i.amount.amount for i in retry.batch.items] == [owed]
    assert retry.batch.items[0].idempotency_key != confirmed.batch.items[0].idempotency_key
    report = market.ledger.check()
    assert report.ok, report.problems


def test_concurrent_confirmations_post_each_payout_once(
    market: Container, http: TestClient, ops: Account, clock: FixedClock
) -> None:
    # Given a planned run with one payout
    seller = new_seller(market, ops)
    order = _sold(market, http, ops, seller)
    _deliver_seller_part(market, http, ops, order, seller)
    clock.advance(9 * DAY)
    run, _ = market.payouts.plan_run(ops.principal)
    assert len(run.batch.items) == 1

    # When four operators confirm it at the same moment
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def confirm() -> None:
        barrier.wait()
        try:
            market.payouts.confirm_run(ops.principal, run.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then every call succeeded and the ledger holds exactly one payout
    assert errors == []
    report = market.ledger.check()
    assert report.ok, report.problems
    assert payable(market, seller) == 0
    assert balances(market)[PAYOUTS_IN_TRANSIT.code] == run.batch.items[0].amount.amount
