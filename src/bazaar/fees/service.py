"""Ledger use cases: post what orders, refunds and listings do to the money; read it back.

Every posting is idempotent: a transaction's dedupe key (``order_paid:<order id>``,
``refund:<refund id>``, ``cancellation:<order id>``...) is unique in the table, so an event
delivered twice posts once. A posting that depends on an earlier one (a refund needs the
order's payment) raises :class:`LedgerNotReady` while that one is missing, and the
dispatcher retries it with backoff: events may arrive out of order, never get lost.

The amounts a refund posts are checked against what the orders context refunded the
customer; a difference means the two disagree about which units came back, and the posting
is refused (and retried) rather than written wrong. A refund is settled (``refund_paid``)
when the gateway reports paying that very refund, by id and amount
(:func:`~bazaar.fees.matching.refunds_paid_back`), whichever of the two arrives first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta

from bazaar.fees import store
from bazaar.fees.events import ListingFeesCharged
from bazaar.fees.ledger import (
    Transaction,
    balances,
    check_ledger,
)
from bazaar.fees.matching import (
    LedgerNotReady,
    refunds_paid_back,
    require_owed,
    shipping_refunded,
)
from bazaar.fees.model import (
    FeeSchedule,
    PaidLine,
    PaidOrder,
    PaidShipping,
    Refund,
    RefundUnits,
    listing_fees,
    listing_fees_by_seller,
)
from bazaar.fees.ports import (
    CategoryAncestry,
    GatewayRefunds,
    GatewayReturns,
    ListingActivitySource,
    OrderFacts,
    OrderSource,
    seller_of,
)
from bazaar.fees.postings import (
    post_cancellation,
    post_listing_fees,
    post_order_paid,
    post_refund,
    post_refund_paid,
    shipping_item,
)
from bazaar.fees.reports import LedgerReport, check_period, seller_of_principal
from bazaar.fees.statements import Statement, statement
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import DomainError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money

log = logging.getLogger("bazaar.fees")

LEDGER = Actor.system("ledger")


class LedgerService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        uow: Callable[[Actor], SqlUnitOfWork],
        *,
        fee_schedule: Callable[[], FeeSchedule],
        orders: OrderSource,
        categories: CategoryAncestry,
        refunds: GatewayRefunds,
        listings: ListingActivitySource,
    ) -> None:
        self._db = db
        self._clock = clock
        self._uow = uow
        self._fee_schedule = fee_schedule
        self._orders = orders
        self._categories = categories
        self._refunds = refunds
        self._listings = listings

    # --- postings from order events ---------------------------------------------------------

    def _post(self, t: Transaction, refunded: Mapping[str, int] | None = None) -> bool:
        with self._uow(LEDGER) as uow:
            posted = store.insert_transaction(uow.conn, t, self._clock.now(), refunded=refunded)
            uow.commit()
        return posted

    def _exists(self, key: str) -> bool:
        with self._db.read() as conn:
            return store.key_exists(conn, key)

    def _facts(self, order_id: str) -> OrderFacts:
        facts = self._orders.order_facts(order_id)
        if facts is None:
            raise NotFound(f"No order {order_id}")
        return facts

    def _paid_order(
        self, facts: OrderFacts, paid_at: datetime, refunded: Mapping[str, int]
    ) -> PaidOrder:
        ancestors = self._categories.ancestors(sorted({x.category_id for x in facts.lines}))
        return PaidOrder(
            facts.order_id,
            facts.currency,
            paid_at,
            tuple(
                PaidLine(
                    x.line_id,
                    seller_of(x.fulfiller_id),
                    x.category_id,
                    x.quantity,
                    x.net,
                    x.tax,
                    x.gross,
                    category_ancestors=tuple(ancestors.get(x.category_id, ())),
                    refunded_quantity=refunded.get(x.line_id, 0),
                )
                for x in facts.lines
            ),
            tuple(
                PaidShipping(
                    s.fulfiller_id,
                    seller_of(s.fulfiller_id),
                    s.net,
                    s.tax,
                    s.gross,
                    refunded=shipping_item(s.fulfiller_id) in refunded,
                )
                for s in facts.shipping
            ),
        )

    def record_order_paid(
        self, order_id: str, paid_at: datetime, facts: OrderFacts | None = None
    ) -> bool:
        """Post the ``order_paid`` transaction of ``order_id`` with the fee schedule in force
        (see :mod:`bazaar.fees.postings`), from ``facts`` when the event carried them, else
        from the orders context. Idempotent; False when it was already posted.
        Raises ``NotFound`` for an unknown order and ``LedgerNotReady`` for an unpaid one."""
        key = f"order_paid:{order_id}"
        try:
            with self._db.reading():  # the order (old events), categories, fees: one snapshot
                if facts is None:
                    if self._exists(key):
                        return False
                    facts = self._facts(order_id)
                if not facts.paid:
                    raise LedgerNotReady(f"Order {order_id} is not paid")
                paid = self._paid_order(facts, paid_at, {})
                fees = self._fee_schedule()
            t = post_order_paid(paid, fees, transaction_id=new_id("ltx"))
        except (DomainError, ValueError):
            if self._exists(key):  # what is posted stays posted, whatever the rules say today
                return False
            raise
        # No existence check first: a redelivery builds the posting again and the unique
        # dedupe key refuses it. The write transaction holds SQLite's write lock for the
        # inserts only, everything else is read and computed before it.
        return self._post(t)

    def _original(self, order_id: str) -> tuple[Transaction, dict[str, int]]:
        with self._db.read() as conn:
            original = store.transaction_by_key(conn, f"order_paid:{order_id}")
            if original is None:
                raise LedgerNotReady(f"The payment of order {order_id} is not posted yet")
            return original, store.refunded_items(conn, original.id)

    def record_refund(
        self,
        order_id: str,
        refund_id: str,
        units: Mapping[str, int],
        *,
        shipping: Money,
        amount: Money,
        refunded_at: datetime,
    ) -> bool:
        """Post the refund ``refund_id`` of ``units`` per order line and of ``shipping``
        (the refunded shipping charges' total). Idempotent; False when already posted.

        Guarantees: the transaction reverses exactly the shares of those units and charges
        (:func:`~bazaar.fees.postings.post_refund`) and owes the customer exactly
        ``amount``. Raises ``LedgerNotReady`` while the order's payment is not posted or the
        amounts disagree."""
        if self._exists(f"refund:{refund_id}"):
            return False
        original, refunded = self._original(order_id)
        facts = self._facts(order_id)
        paid = self._paid_order(facts, original.posted_at, refunded)
        fulfillers = shipping_refunded(facts, refunded, shipping)
        refund = Refund(
            refund_id,
            refunded_at,
            tuple(RefundUnits(line_id, n) for line_id, n in units.items() if n),
            fulfillers,
        )
        t = post_refund(original, paid, refund, transaction_id=new_id("ltx"))
        require_owed(t, amount)
        items = {u.line_id: u.units for u in refund.lines}
        items.update({shipping_item(f): 1 for f in fulfillers})
        posted = self._post(t, items)
        self.settle_refunds_of(order_id)
        return posted

    def record_cancellation(
        self, order_id: str, *, refund_due: Money, cancelled_at: datetime
    ) -> bool:
        """Post the cancellation of a paid order: every unit and shipping charge not yet
        refunded goes back (:func:`~bazaar.fees.postings.post_cancellation`). Nothing when
        ``refund_due`` is zero (never paid, or already refunded in full). Idempotent."""
        if refund_due.is_zero() or self._exists(f"cancellation:{order_id}"):
            return False
        original, refunded = self._original(order_id)
        paid = self._paid_order(self._facts(order_id), original.posted_at, refunded)
        t = post_cancellation(
            original,
            paid,
            refund_id=order_id,
            cancelled_at=cancelled_at,
            transaction_id=new_id("ltx"),
        )
        require_owed(t, refund_due)
        items = {x.line_id: x.quantity - x.refunded_quantity for x in paid.lines}
        items = {k: v for k, v in items.items() if v}
        items.update({shipping_item(s.fulfiller_id): 1 for s in paid.shipping if not s.refunded})
        posted = self._post(t, items)
        self.settle_refunds_of(order_id)
        return posted

    def record_fulfillment_ended(self, order_id: str, fulfiller_id: str, on: date) -> bool:
        """Remember the day a seller's part of an order was delivered (or cancelled, or
        rejected in full): its money becomes payable ``hold_days`` later. Only the first day
        counts; the retailer's fulfillments are not tracked. Idempotent."""
        seller_id = seller_of(fulfiller_id)
        if seller_id is None:
            return False
        if fulfiller_id not in self._facts(order_id).finished_fulfillers:
            return False  # part of it is still to ship
        with self._uow(LEDGER) as uow:
            recorded = store.record_delivery(uow.conn, order_id, seller_id, on, self._clock.now())
            uow.commit()
        return recorded

    # --- refunds paid by the gateway --------------------------------------------------------

    def settle_refunds_of(self, order_id: str) -> int:
        """Post ``refund_paid`` for the order's refunds the payments context reports paid
        back (:meth:`record_refunds_paid` with what it answers). Idempotent; returns how
        many were settled by this call."""
        returned = self._refunds.returned(order_id)
        return 0 if returned is None else self.record_refunds_paid(order_id, returned)

    def record_refunds_paid(self, order_id: str, returned: GatewayReturns) -> int:
        """Post ``refund_paid`` for each posted refund (or cancellation) of ``order_id`` that
        ``returned`` pays back exactly: by refund id and amount, or all at once by a
        released authorization (:func:`~bazaar.fees.matching.refunds_paid_back`).

        Guarantees: a refund is settled once, only with what the gateway paid for that very
        refund, so ``refunds_payable`` never shows less owed than the gateway still owes.
        A refund not posted yet is settled when it is posted. Returns how many."""
        with self._db.read() as conn:
            original = store.transaction_by_key(conn, f"order_paid:{order_id}")
            if original is None:
                return 0
            refunds = store.refunds_of(conn, original.id)
            settled = store.settled_refund_ids(conn, [t.id for t in refunds])
        posted = 0
        for t in refunds_paid_back(refunds, settled, returned):
            paid = post_refund_paid(t, transaction_id=new_id("ltx"), posted_at=self._clock.now())
            posted += self._post(paid)
        return posted

    def settle_refunds(self, limit: int = 200) -> int:
        """The reconciler's pass: settle refunds the gateway paid since the last one."""
        with self._db.read() as conn:
            order_ids = store.orders_with_unpaid_refunds(conn, limit)
        done = 0
        for order_id in order_ids:
            try:
                done += self.settle_refunds_of(order_id)
            except Exception:  # one order must not stop the others
                log.exception("settling the refunds of order %s failed", order_id)
        return done

    # --- listing fees -----------------------------------------------------------------------

    def charge_listing_fees(self, month: date) -> dict[str, Money]:
        """Charge every seller its listing fees for ``month`` (its first day), prorated per
        day active (:func:`~bazaar.fees.model.listing_fees`). Idempotent per seller and
        month. Raises ``ValidationFailed`` on ``month`` unless that month is over.
        Returns what each seller was charged by this call."""
        today = self._clock.now().astimezone(UTC).date()
        if month.day != 1 or month > today.replace(day=1) - timedelta(days=1):
            raise ValidationFailed.on("month", "Must be the first day of a past month")
        fees = self._fee_schedule()
        if fees.monthly_listing_fee.is_zero():
            return {}
        activity = self._listings.activity(month)
        charged = listing_fees(activity, month, fees.monthly_listing_fee)
        counts: dict[str, int] = {}
        for fee in charged:
            counts[fee.seller_id] = counts.get(fee.seller_id, 0) + 1
        done: dict[str, Money] = {}
        period = f"{month.year:04d}-{month.month:02d}"
        for seller_id, amount in listing_fees_by_seller(charged, fees.currency).items():
            if amount.is_zero():
                continue
            t = post_listing_fees(
                seller_id, amount, month, transaction_id=new_id("ltx"), posted_at=self._clock.now()
            )
            with self._uow(LEDGER) as uow:
                if store.insert_transaction(uow.conn, t, self._clock.now()):
                    event = ListingFeesCharged(
                        seller_id=seller_id, month=period, amount=amount, listings=counts[seller_id]
                    )
                    uow.record(event)
                    done[seller_id] = amount
                uow.commit()
        return done

    # --- reading ----------------------------------------------------------------------------

    def check(self) -> LedgerReport:
        """Re-verify the whole stored ledger with :func:`~bazaar.fees.ledger.check_ledger`."""
        with self._db.read() as conn:
            ledger = store.all_transactions(conn)
            count_t, count_e = store.ledger_size(conn)
        return LedgerReport(
            count_t,
            count_e,
            check_ledger(ledger),
            dict(sorted(((a.code, c), m) for (a, c), m in balances(ledger).items())),
        )

    def statement(
        self, principal: Principal, seller_id: str | None, start: date, end: date
    ) -> Statement:
        """A seller's statement for the days ``start`` to ``end``. Sellers get their own
        (``seller_id`` None); operators name the seller."""
        if seller_id is None:
            seller_id = seller_of_principal(principal)
        else:
            principal.require_role(Role.OPERATOR)
        check_period(start, end)
        until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
        with self._db.read() as conn:
            ledger = store.seller_transactions(conn, seller_id, until)
        return statement(seller_id, start, end, ledger, currency=self._fee_schedule().currency)
