"""The ledger invariant under a random life of a marketplace (hypothesis stateful test).

Orders, partial refunds, seller rejections, cancellations (refunded or voided), the gateway
paying refunds one at a time (announced by ``RefundSucceeded`` or found by the reconciler's
pass), deliveries, listing fees, payout runs with paid and failed payouts, suspended sellers
and redelivered events happen in random order against the real ledger and payout services on
a real (SQLite) database. Orders are real :class:`~bazaar.orders.model.Order` aggregates
whose events reach the ledger through its registered handlers; only the order lookup, the
gateway and the seller directory are fakes.

After every step: the stored ledger passes ``check_ledger``; debits equal credits in SQL;
each seller's payable equals its carried balance plus the movements no run settled;
``refunds_payable`` equals what the gateway still owes customers; exactly the refunds the
gateway paid are settled, each for its own amount; and an order whose every unit came back
has left no trace on any account.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bazaar.fees import handlers, settlement_store, store
from bazaar.fees.ledger import REFUNDS_PAYABLE, Transaction, TransactionKind, check_ledger
from bazaar.fees.model import (
    ActiveInterval,
    CommissionSchedule,
    FeeSchedule,
    ListingActivity,
)
from bazaar.fees.payable import payable_entries
from bazaar.fees.payout_service import PayoutRules, PayoutService
from bazaar.fees.payouts import PayoutStatus
from bazaar.fees.ports import GatewayReturns, OrderFacts, PaidRefund, ShippingCharge, SoldLine
from bazaar.fees.service import LedgerService
from bazaar.identity.model import Principal, Role
from bazaar.infra import outbox
from bazaar.infra.db import Database, create_db_engine
from bazaar.infra.dispatcher import HandlerRegistry
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.events import Actor, Event, StoredEvent
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money, round_half_up
from bazaar.orders.events import (
    FulfillmentCancelled,
    FulfillmentDelivered,
    FulfillmentRejected,
    LineQuantity,
)
from bazaar.orders.model import Order, OrderLine, OrderStatus, ShippingLine
from bazaar.payments.events import PaymentVoided, RefundSucceeded

SELLERS = ("sel_a", "sel_b", "sel_c")
FULFILLERS = ("retailer", *SELLERS)
OPERATOR = Principal(kind="user", id="usr_ops", role=Role.OPERATOR)
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FEES = FeeSchedule(
    commission=CommissionSchedule(
        "EUR",
        Decimal("0.12"),
        category_rates={"cat_books": Decimal("0.07")},
        minimum_per_line=Money(30, "EUR"),
    ),
    order_fee=Money(45, "EUR"),
    monthly_listing_fee=Money(60, "EUR"),
)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def _tax(gross: int, rate: Decimal) -> int:
    return round_half_up(Decimal(gross) * rate / (1 + rate))


class FakeWorld:
    """The order lookup, the gateway, listings and seller statuses the ledger asks about."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.finished: dict[str, set[str]] = {}
        # refunds the gateway has not paid yet, per order: (refund id, what the ledger
        # calls it, amount); a cancellation's payment refund has an id of its own
        self.owed: dict[str, list[tuple[str, str, int]]] = {}
        self.paid: dict[str, list[tuple[str, str, int]]] = {}  # ... and those it paid
        self.voided: dict[str, int] = {}  # authorizations released uncaptured
        self.unannounced: set[str] = set()  # paid, but the RefundSucceeded event was lost
        self.statuses: dict[str, str] = {}

    def order_facts(self, order_id: str) -> OrderFacts | None:
        order = self.orders.get(order_id)
        if order is None:
            return None
        return OrderFacts(
            order_id=order.id,
            currency=order.currency,
            paid=order.payment_reference is not None,
            lines=tuple(
                SoldLine(
                    x.id, x.fulfiller_id, x.category_id, x.quantity, x.total - x.tax, x.tax, x.total
                )
                for x in order.lines
            ),
            shipping=tuple(
                ShippingCharge(s.fulfiller_id, s.total - s.tax, s.tax, s.total, s.refunded)
                for s in order.shipping
            ),
            finished_fulfillers=frozenset(self.finished.get(order_id, set())),
        )

    def ancestors(self, category_ids: Sequence[str]) -> Mapping[str, tuple[str, ...]]:
        return dict.fromkeys(category_ids, ("cat_root",))

    def returned_money(self, order_id: str) -> GatewayReturns | None:
        if order_id not in self.orders:
            return None
        refunds = tuple(PaidRefund(r, eur(n)) for r, _, n in self.paid.get(order_id, []))
        released = self.voided.get(order_id)
        return GatewayReturns(refunds, None if released is None else eur(released))

    def activity(self, month: date) -> Sequence[ListingActivity]:
        return [
            ListingActivity(f"lst_{seller}", seller, (ActiveInterval(date(2026, 1, 20)),))
            for seller in SELLERS
        ]

    def seller_statuses(self, seller_ids: Sequence[str]) -> Mapping[str, str]:
        return {s: self.statuses.get(s, "active") for s in seller_ids}


class _Gateway:
    def __init__(self, world: FakeWorld) -> None:
        self.returned = world.returned_money


class _Directory:
    def __init__(self, world: FakeWorld) -> None:
        self.statuses = world.seller_statuses


line_spec = st.tuples(
    st.sampled_from(FULFILLERS),
    st.integers(1, 4),  # quantity
    st.integers(300, 4000),  # unit price, VAT included
    st.sampled_from([Decimal(0), Decimal("0.09"), Decimal("0.21")]),
    st.sampled_from(["cat_mugs", "cat_books"]),
    st.integers(0, 100),  # discount in % of the line
)


class LedgerMachine(RuleBasedStateMachine):
    template: Path  # a migrated SQLite database, set by the test

    def __init__(self) -> None:
        super().__init__()
        # A memory-backed directory when there is one: hundreds of short commits per example.
        shm = Path("/dev/shm")
        where = str(shm) if shm.is_dir() else None
        self.dir = Path(tempfile.mkdtemp(prefix="ledger-stateful-", dir=where))
        path = self.dir / "ledger.db"
        shutil.copyfile(self.template, path)
        self.db = Database(create_db_engine(f"sqlite:///{path}", pool_size=2))
        self.clock = FixedClock(START)
        self.world = FakeWorld()

        def uow(actor: Actor) -> SqlUnitOfWork:
            return SqlUnitOfWork(self.db, self.clock, [], actor=actor)

        self.ledger = LedgerService(
            self.db,
            self.clock,
            uow,
            fee_schedule=lambda: FEES,
            orders=self.world,
            categories=self.world,
            refunds=_Gateway(self.world),
            listings=self.world,
        )
        self.payouts = PayoutService(
            self.db,
            self.clock,
            uow,
            PayoutRules("EUR", hold_days=2, minimum=100, weekday=self.clock.now().weekday()),
            sellers=lambda: _Directory(self.world),
        )
        self.registry = HandlerRegistry()
        handlers.register(self.registry, self.ledger)
        self.delivered: list[StoredEvent] = []
        self.charged_months: set[date] = set()

    def teardown(self) -> None:
        self.db.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- events reach the ledger through its handlers ----------------------------------------

    def _emit(self, *events: Event) -> None:
        for event in events:
            stored = StoredEvent(
                id=new_id("evt"),
                type=event.type_name(),
                subject_type=event.subject_type,
                subject_id=event.subject_id(),
                payload=event.payload(),
                occurred_at=self.clock.now(),
                actor_type="system",
                actor_id=None,
                request_id=None,
            )
            self._deliver(stored)
            self.delivered.append(stored)

    def _deliver(self, stored: StoredEvent) -> None:
        for name in self.registry.handlers_for(stored.type):
            claim = outbox.Claim("dlv_x", f"handler:{name}", 1, "lease", stored)
            result = self.registry.deliver(claim)
            assert result.ok, result.error

    def _owe(self, order_id: str, amount: Money, refund_id: str, reference: str) -> None:
        if amount.amount:
            self.world.owed.setdefault(order_id, []).append((refund_id, reference, amount.amount))

    # --- rules ------------------------------------------------------------------------------

    @rule(
        lines=st.lists(line_spec, min_size=1, max_size=3),
        shipping=st.lists(st.integers(0, 700), min_size=4, max_size=4),
    )
    def place_and_pay_order(self, lines: list[Any], shipping: list[int]) -> None:
        order_id = new_id("ord")
        order_lines = []
        for fulfiller, quantity, price, rate, category, discount_pct in lines:
            subtotal = price * quantity
            discount = subtotal * discount_pct // 100
            total = subtotal - discount
            tax = _tax(total, rate)
            order_lines.append(
                OrderLine(
                    new_id("oli"),
                    new_id("ofr"),
                    "SKU",
                    new_id("prd"),
                    fulfiller,
                    category,
                    quantity,
                    eur(price),
                    eur(discount),
                    eur(tax),
                    rate,
                    eur(total),
                )
            )
        fulfillers = dict.fromkeys(x.fulfiller_id for x in order_lines)
        charges = [
            ShippingLine(
                f, eur(amount), eur(_tax(amount, Decimal("0.21"))), Decimal("0.21"), eur(amount)
            )
            for f, amount in zip(fulfillers, shipping, strict=False)
            if amount
        ]
        placed = Order.place(
            id=order_id,
            customer_id=None,
            email="a@example.com",
            currency="EUR",
            prices_include_tax=True,
            lines=order_lines,
            shipping=charges,
        ).value
        paid = placed.mark_paid(f"pay_{order_id}", placed.grand_total)
        self.world.orders[order_id] = paid.value
        self._emit(*paid.events)

    def _refundable(self) -> list[tuple[str, OrderLine]]:
        return [
            (o.id, x)
            for o in self.world.orders.values()
            if o.status is not OrderStatus.CANCELLED
            for x in o.lines
            if x.refunded_quantity < x.quantity
        ]

    @precondition(lambda self: self._refundable())
    @rule(data=st.data())
    def refund_some_units(self, data: st.DataObject) -> None:
        order_id, line = data.draw(st.sampled_from(self._refundable()))
        units = data.draw(st.integers(1, line.quantity - line.refunded_quantity))
        order = self.world.orders[order_id]
        refund_id = new_id("ref")
        changed = order.refund(refund_id, [LineQuantity(line.id, units)], reason="return")
        self.world.orders[order_id] = changed.value
        self._owe(
            order_id, changed.value.refunded_total - order.refunded_total, refund_id, refund_id
        )
        self._emit(*changed.events)

    def _open_sellers(self) -> list[tuple[str, str]]:
        return [
            (o.id, f)
            for o in self.world.orders.values()
            if o.status is not OrderStatus.CANCELLED
            for f in o.fulfiller_ids
            if f not in self.world.finished.get(o.id, set())
        ]

    @precondition(lambda self: self._open_sellers())
    @rule(data=st.data())
    def fulfiller_rejects_what_is_left(self, data: st.DataObject) -> None:
        order_id, fulfiller = data.draw(st.sampled_from(self._open_sellers()))
        order = self.world.orders[order_id]
        units = [
            LineQuantity(x.id, x.quantity - x.refunded_quantity)
            for x in order.lines
            if x.fulfiller_id == fulfiller and x.refunded_quantity < x.quantity
        ]
        shipping = [
            s.fulfiller_id for s in order.shipping if s.fulfiller_id == fulfiller and not s.refunded
        ]
        self.world.finished.setdefault(order_id, set()).add(fulfiller)
        if units or shipping:
            refund_id = new_id("ref")
            changed = order.refund(refund_id, units, reason="rejected", shipping_for=shipping)
            self.world.orders[order_id] = changed.value
            owed = changed.value.refunded_total - order.refunded_total
            self._owe(order_id, owed, refund_id, refund_id)
            self._emit(*changed.events)
        ids = {"fulfillment_id": new_id("ful"), "order_id": order_id, "fulfiller_id": fulfiller}
        self._emit(FulfillmentRejected(**ids, lines=tuple(units), reason="oos", complete=True))

    @precondition(lambda self: self._open_sellers())
    @rule(data=st.data())
    def fulfillers_deliver_an_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted({o for o, _ in self._open_sellers()})))
        for open_order, fulfiller in self._open_sellers():
            if open_order == order_id:
                self.world.finished.setdefault(order_id, set()).add(fulfiller)
                ids = {"fulfillment_id": new_id("ful"), "order_id": order_id}
                self._emit(FulfillmentDelivered(**ids, fulfiller_id=fulfiller))

    def _cancellable(self) -> list[str]:
        return [
            o.id
            for o in self.world.orders.values()
            if o.status is not OrderStatus.CANCELLED and not self.world.finished.get(o.id)
        ]

    @precondition(lambda self: self._cancellable())
    @rule(data=st.data(), uncaptured=st.booleans())
    def customer_cancels(self, data: st.DataObject, uncaptured: bool) -> None:
        order_id = data.draw(st.sampled_from(self._cancellable()))
        order = self.world.orders[order_id]
        cancelled = order.cancel("customer_request", [])
        self.world.orders[order_id] = cancelled.value
        self.world.finished[order_id] = set(order.fulfiller_ids)
        # Before a capture (and with no refund paid) the authorization is voided instead:
        # the refunds held for the capture, and the cancellation, never leave the customer.
        voided = uncaptured and not self.world.paid.get(order_id)
        if not voided:
            self._owe(order_id, order.refundable_total, new_id("ref"), order_id)
        self._emit(*cancelled.events)
        for f in order.fulfiller_ids:
            ids = {"fulfillment_id": new_id("ful"), "order_id": order_id, "fulfiller_id": f}
            self._emit(FulfillmentCancelled(**ids, lines=(), reason="customer_request"))
        if voided:
            self.world.owed.pop(order_id, None)
            self.world.voided[order_id] = order.grand_total.amount
            released = order.grand_total
            self._emit(
                PaymentVoided(payment_id=f"pay_{order_id}", order_id=order_id, released=released)
            )

    def _owed_refunds(self) -> list[tuple[str, int]]:
        return [(o, i) for o, owed in sorted(self.world.owed.items()) for i in range(len(owed))]

    @precondition(lambda self: self._owed_refunds())
    @rule(data=st.data(), announced=st.booleans())
    def gateway_pays_one_refund(self, data: st.DataObject, announced: bool) -> None:
        # The gateway pays refunds one by one, in any order; RefundSucceeded reaches the
        # ledger, or (a lost event) the reconciler's pass finds the refund paid.
        order_id, index = data.draw(st.sampled_from(self._owed_refunds()))
        refund_id, reference, amount = self.world.owed[order_id].pop(index)
        self.world.paid.setdefault(order_id, []).append((refund_id, reference, amount))
        if announced:
            self._emit(RefundSucceeded(refund_id=refund_id, order_id=order_id, amount=eur(amount)))
        else:
            self.world.unannounced.add(reference)

    @rule()
    def the_reconciler_settles_refunds(self) -> None:
        self.ledger.settle_refunds()
        self.world.unannounced.clear()

    @rule(days=st.integers(1, 9))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days * 86_400)

    @rule(seller=st.sampled_from(SELLERS), suspended=st.sampled_from([False, False, True]))
    def seller_status_changes(self, seller: str, suspended: bool) -> None:
        self.world.statuses[seller] = "suspended" if suspended else "active"

    def _last_month(self) -> date:
        first = self.clock.now().date().replace(day=1)
        return (first - timedelta(days=1)).replace(day=1)

    @precondition(lambda self: self._last_month() not in self.charged_months)
    @rule()
    def listing_fees_of_last_month(self) -> None:
        month = self._last_month()
        self.charged_months.add(month)
        self.ledger.charge_listing_fees(month)
        assert self.ledger.charge_listing_fees(month) == {}  # once per seller and month

    @rule(
        days=st.integers(0, 8),
        outcomes=st.lists(st.sampled_from(["paid", "failed", "later"]), min_size=4, max_size=4),
    )
    def days_pass_then_a_payout_run(self, days: int, outcomes: list[str]) -> None:
        self.clock.advance(days * 86_400)
        run, _ = self.payouts.plan_run(OPERATOR)
        confirmed = self.payouts.confirm_run(OPERATOR, run.id)
        again = self.payouts.confirm_run(OPERATOR, run.id)  # a retried confirmation
        assert again.batch.items == confirmed.batch.items
        assert all(i.status is not PayoutStatus.PROPOSED for i in confirmed.batch.items)
        for item, outcome in zip(confirmed.batch.items, outcomes, strict=False):
            payout_id = confirmed.item_id(item)
            if item.status is not PayoutStatus.CONFIRMED:
                continue
            if outcome == "paid":
                self.payouts.mark_paid(OPERATOR, payout_id, f"bank-{payout_id}")
            elif outcome == "failed":
                self.payouts.mark_failed(OPERATOR, payout_id, "account closed")

    @precondition(lambda self: self.delivered)
    @rule(data=st.data())
    def an_event_is_delivered_again(self, data: st.DataObject) -> None:
        before = self._size()
        self._deliver(data.draw(st.sampled_from(self.delivered)))
        assert self._size() == before

    # --- invariants -------------------------------------------------------------------------

    def _size(self) -> tuple[int, int]:
        with self.db.read() as conn:
            return store.ledger_size(conn)

    def _ledger(self) -> list[Transaction]:
        with self.db.read() as conn:
            return store.all_transactions(conn)

    @invariant()
    def the_ledger_invariant_holds(self) -> None:
        ledger = self._ledger()  # read once per step: the checks below share it
        assert check_ledger(ledger) == []
        self._debits_equal_credits_in_the_database()
        self._payables_equal_carried_balances_plus_unsettled_movements(ledger)
        self._refunds_payable_is_what_the_gateway_still_owes(ledger)
        self._exactly_the_paid_refunds_are_settled(ledger)
        self._an_order_given_back_in_full_leaves_no_trace(ledger)

    def _debits_equal_credits_in_the_database(self) -> None:
        e = store.entries
        signed = sa.case((e.c.side == "debit", e.c.amount), else_=-e.c.amount)
        with self.db.read() as conn:
            total: int = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(signed), 0))
            ).scalar_one()
        assert total == 0

    def _payables_equal_carried_balances_plus_unsettled_movements(
        self, ledger: list[Transaction]
    ) -> None:
        with self.db.read() as conn:
            unsettled = settlement_store.unsettled_pairs(conn)
            carried = settlement_store.carried_balances(conn, "EUR")
        expected = {s: carried.get(s, eur(0)).amount for s in SELLERS}
        for entry in payable_entries(ledger, delivered_on={}):
            if (entry.seller_id, entry.transaction_id) in unsettled:
                expected[entry.seller_id] += entry.amount.amount
        actual = dict.fromkeys(SELLERS, 0)
        for t in ledger:
            for e in t.entries:
                if e.account.seller_id is not None:
                    actual[e.account.seller_id] -= e.signed.amount
        assert actual == expected

    def _refunds_payable_is_what_the_gateway_still_owes(self, ledger: list[Transaction]) -> None:
        owed = -sum(
            e.signed.amount for t in ledger for e in t.entries if e.account == REFUNDS_PAYABLE
        )
        settled = self._settled(ledger)
        not_known = [  # paid by the gateway, not announced, not found by a pass yet
            n for paid in self.world.paid.values() for _, ref, n in paid if ref not in settled
        ]
        assert owed == sum(n for owed in self.world.owed.values() for _, _, n in owed) + sum(
            not_known
        )

    def _settled(self, ledger: list[Transaction]) -> dict[str, int]:
        """What each settled refund (by reference) took off ``refunds_payable``."""
        by_id = {t.id: t for t in ledger}
        return {
            by_id[t.original_id].reference: sum(
                e.signed.amount for e in t.entries if e.account == REFUNDS_PAYABLE
            )
            for t in ledger
            if t.kind is TransactionKind.REFUND_PAID and t.original_id is not None
        }

    def _exactly_the_paid_refunds_are_settled(self, ledger: list[Transaction]) -> None:
        def owed(t: Transaction) -> int:  # credit to refunds_payable
            return -sum(e.signed.amount for e in t.entries if e.account == REFUNDS_PAYABLE)

        by_id = {t.id: t for t in ledger}
        paid = {ref: n for refunds in self.world.paid.values() for _, ref, n in refunds}
        for t in ledger:
            voided = _order_of(t, by_id) in self.world.voided
            if voided and t.kind is not TransactionKind.ORDER_PAID and owed(t) > 0:
                paid[t.reference] = owed(t)  # the void settles every refund of its order
        # each settlement takes exactly its own refund's amount off refunds_payable, and
        # only a refund whose payment was never announced may still wait for the reconciler
        settled = self._settled(ledger)
        assert {ref: paid.get(ref) for ref in settled} == settled
        assert set(paid) - set(settled) <= self.world.unannounced

    def _an_order_given_back_in_full_leaves_no_trace(self, ledger: list[Transaction]) -> None:
        by_id = {t.id: t for t in ledger}
        chains: dict[str, list[Transaction]] = {}
        for t in ledger:
            order_id = _order_of(t, by_id)
            if order_id is not None:
                chains.setdefault(order_id, []).append(t)
        for order in self.world.orders.values():
            # every unit and charge came back (a free order's totals match with nothing back)
            whole = order.status is OrderStatus.CANCELLED or (
                all(x.refunded_quantity == x.quantity for x in order.lines)
                and all(s.refunded for s in order.shipping)
            )
            paid = self.world.paid.get(order.id, [])
            unknown = any(ref in self.world.unannounced for _, ref, _ in paid)
            if not whole or self.world.owed.get(order.id) or unknown:
                continue
            net: dict[str, int] = {}
            for t in chains.get(order.id, []):
                for e in t.entries:
                    net[e.account.code] = net.get(e.account.code, 0) + e.signed.amount
            assert all(v == 0 for v in net.values()), (order.id, net)


def _order_of(t: Transaction, by_id: Mapping[str, Transaction]) -> str | None:
    while t.original_id is not None and t.original_id in by_id:
        t = by_id[t.original_id]
    return t.reference if t.kind is TransactionKind.ORDER_PAID else None


def test_the_ledger_invariant_holds_for_any_sequence(sqlite_template: Path) -> None:
    LedgerMachine.template = sqlite_template
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
