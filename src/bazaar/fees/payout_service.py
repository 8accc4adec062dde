"""Payout runs: plan a batch from the ledger, let an operator confirm it, record the bank.

A run belongs to a period, the week that starts on the configured payout weekday; planning
the same period again gives back its run (re-planned while still proposed, as is once
confirmed). Confirming posts one ``payout`` transaction per item, whose reference is the
item's idempotency key, marks the movements it covers as settled and stores the balances
carried forward, all in one unit of work: a run is confirmed whole or not at all, and a
second confirmation changes nothing. A failed payout is reversed in the ledger and its
movements and carried balance become payable again.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bazaar.fees import payout_store, settlement_store, store
from bazaar.fees.events import PayoutConfirmed, PayoutFailed, PayoutPaid, PayoutRunConfirmed
from bazaar.fees.ledger import TransactionKind, reverse
from bazaar.fees.payable import hold_within_return_window, payable_entries
from bazaar.fees.payout_store import PayoutRecord, RunRecord
from bazaar.fees.payouts import (
    BatchStatus,
    PayoutBatch,
    PayoutItem,
    SellerStatus,
    next_run_date,
    plan_payout_run,
)
from bazaar.fees.ports import SellerDirectory
from bazaar.fees.postings import post_payout, post_payout_paid
from bazaar.fees.reports import seller_of_principal
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id, new_ids
from bazaar.kernel.money import Money


@dataclass(frozen=True)
class PayoutRules:
    """``BAZAAR_PAYOUT_*``: hold after delivery, smallest payout, run weekday (0 Monday).

    ``return_window_days`` (``BAZAAR_RETURN_WINDOW_DAYS``; None: no window) caps the hold:
    a seller's part of an order can be sent back for that long after its delivery, and the
    order completes when every part is past it, so holding money any longer protects
    nothing. A shorter hold pays sellers before returns close; a later return is taken
    back from their next payout (a negative balance is carried forward).
    """

    currency: str
    hold_days: int = 14
    minimum: int = 0
    weekday: int = calendar.MONDAY
    return_window_days: int | None = None

    @property
    def effective_hold_days(self) -> int:
        return hold_within_return_window(self.hold_days, self.return_window_days)


class PayoutService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        uow: Callable[[Actor], SqlUnitOfWork],
        rules: PayoutRules,
        sellers: Callable[[], SellerDirectory],
    ) -> None:
        self._db = db
        self._clock = clock
        self._uow = uow
        self._rules = rules
        self._sellers = sellers  # looked up per run, so the directory can be replaced

    def period_of(self, day: date) -> date:
        """The run period ``day`` falls in: the last payout weekday on or before it."""
        return next_run_date(day - timedelta(days=7), self._rules.weekday)

    # --- planning ---------------------------------------------------------------------------

    def plan_run(self, principal: Principal) -> tuple[RunRecord, bool]:
        """Plan this period's run as of today; (run, created). Idempotent per period: a
        confirmed run is returned as it is, a proposed one is planned again from the current
        ledger (the same ledger gives the same batch and the same payout keys)."""
        principal.require_role(Role.OPERATOR)
        today = self._clock.now().astimezone(UTC).date()
        period = self.period_of(today)
        try:
            return self._plan_period(principal, today, period)
        except IntegrityError:
            # Another request created this period's run first: answer with that one.
            return self._plan_period(principal, today, period)

    def _plan_period(
        self, principal: Principal, today: date, period: date
    ) -> tuple[RunRecord, bool]:
        with self._uow(principal.actor) as uow:
            run_id = payout_store.run_id_for_period(uow.conn, period)
            existing = payout_store.get_run(uow.conn, run_id) if run_id else None
            if existing is not None and existing.confirmed_at is not None:
                return existing, False
            carried = settlement_store.carried_balances(uow.conn, self._rules.currency)
            batch = self._plan(uow.conn, run_id or new_id("pyr"), today, carried)
            saved = payout_store.save_plan(
                uow.conn,
                batch,
                period=period,
                carried_in=carried,
                item_ids=_payout_ids(batch, existing),
                now=self._clock.now(),
                replace=existing is not None,
            )
            run = payout_store.get_run(uow.conn, batch.run_id)
            if saved:
                uow.commit()
        assert run is not None  # not saved: confirmed meanwhile, and that is the answer
        return run, existing is None and saved

    def _plan(
        self, conn: Connection, run_id: str, today: date, carried: Mapping[str, Money]
    ) -> PayoutBatch:
        unsettled = settlement_store.unsettled_pairs(conn)
        ledger = {t.id: t for t in store.transactions_by_ids(conn, {t for _, t in unsettled})}
        missing = {t.original_id for t in ledger.values() if t.original_id} - set(ledger)
        while missing:  # the chains back to each order payment say what awaits delivery
            found = store.transactions_by_ids(conn, missing)
            ledger.update((t.id, t) for t in found)
            missing = {t.original_id for t in found if t.original_id} - set(ledger)
        ordered = sorted(ledger.values(), key=lambda t: (t.posted_at, t.id))
        orders = {t.reference for t in ordered if t.kind is TransactionKind.ORDER_PAID}
        entries = payable_entries(ordered, delivered_on=store.delivered_on(conn, orders))
        # Originals were loaded only to follow the chains; what is payable is the unsettled.
        entries = [e for e in entries if (e.seller_id, e.transaction_id) in unsettled]
        seller_ids = sorted({e.seller_id for e in entries} | set(carried))
        statuses = self._sellers().statuses(seller_ids)
        return plan_payout_run(
            run_id,
            today,
            sellers={
                s: SellerStatus.SUSPENDED
                if statuses.get(s) == SellerStatus.SUSPENDED.value
                else SellerStatus.ACTIVE
                for s in seller_ids
            },
            entries=entries,
            hold_days=self._rules.effective_hold_days,
            minimum_payout=Money(self._rules.minimum, self._rules.currency),
            carried=carried,
        )

    def get_run(self, principal: Principal, run_id: str) -> RunRecord:
        principal.require_role(Role.OPERATOR)
        with self._db.read() as conn:
            run = payout_store.get_run(conn, run_id) if is_valid_id(run_id, "pyr") else None
        if run is None:
            raise NotFound("No such payout run")
        return run

    # --- confirming -------------------------------------------------------------------------

    def confirm_run(self, principal: Principal, run_id: str) -> RunRecord:
        """Confirm a proposed run: post each payout, settle what it covers, carry balances
        forward. Confirming a confirmed run changes nothing. Raises ``Conflict`` when the
        ledger moved on since the plan (another run settled its movements, or a payout
        failed): plan the period again, then confirm."""
        run = self.get_run(principal, run_id)
        if run.confirmed_at is not None:
            return run
        try:
            with self._uow(principal.actor) as uow:
                # The compare-and-set takes the run's row first: a concurrent confirmation or
                # re-plan of the same run waits for this one, then finds it confirmed.
                if payout_store.mark_run_confirmed(uow.conn, run_id, self._clock.now()):
                    self._confirm(uow, run_id)
                    uow.commit()
        except IntegrityError as exc:
            raise Conflict("Another run settled these movements; plan the run again") from exc
        return self.get_run(principal, run_id)

    def _confirm(self, uow: SqlUnitOfWork, run_id: str) -> None:
        run = payout_store.get_run(uow.conn, run_id)
        assert run is not None
        current = settlement_store.carried_balances(uow.conn, run.batch.currency)
        if current != run.carried_in:
            raise Conflict("Carried balances changed since the plan; plan the run again")
        # Read after the compare-and-set, the run already says confirmed; confirm its plan.
        proposed = replace(run.batch, status=BatchStatus.PROPOSED)
        self._apply(uow, run, proposed.confirm())

    def _apply(self, uow: SqlUnitOfWork, run: RunRecord, batch: PayoutBatch) -> None:
        conn = uow.conn
        now = self._clock.now()
        for before, item in zip(run.batch.items, batch.items, strict=True):
            payout_id = run.item_id(item)
            # The payout's reference is its idempotency key: posting it twice posts once.
            t = post_payout(
                item.seller_id,
                item.amount,
                item.idempotency_key,
                transaction_id=new_id("ltx"),
                posted_at=now,
            )
            store.insert_transaction(conn, t, now)
            payout_store.update_payout(conn, payout_id, before, item, now)
            covered = item.covered_transaction_ids
            settlement_store.settle(conn, run.id, ((item.seller_id, x, payout_id) for x in covered))
            settlement_store.set_balance(conn, item.seller_id, Money.zero(batch.currency), now)
            uow.record(
                PayoutConfirmed(
                    payout_id=payout_id,
                    seller_id=item.seller_id,
                    amount=item.amount,
                    idempotency_key=item.idempotency_key,
                )
            )
        for c in batch.carried_forward:
            settled = c.settled_transaction_ids
            settlement_store.settle(conn, run.id, ((c.seller_id, x, None) for x in settled))
            settlement_store.set_balance(conn, c.seller_id, c.amount, now)
        uow.record(PayoutRunConfirmed(run_id=run.id, payouts=len(batch.items), total=batch.total))

    # --- the bank's answers -----------------------------------------------------------------

    def _payout(self, conn: Connection, payout_id: str) -> PayoutRecord:
        found = payout_store.get_payout(conn, payout_id) if is_valid_id(payout_id, "pyo") else None
        if found is None:
            raise NotFound("No such payout")
        return found

    def mark_paid(self, principal: Principal, payout_id: str, bank_reference: str) -> PayoutRecord:
        """The bank paid a confirmed payout: ``payouts_in_transit`` -> ``bank``. Repeating
        it with the same reference changes nothing; anything else illegal is a 409."""
        principal.require_role(Role.OPERATOR)
        if not bank_reference.strip():
            raise ValidationFailed.on("bank_reference", "Must not be blank", "required")
        with self._uow(principal.actor) as uow:
            record = self._payout(uow.conn, payout_id)
            paid = record.item.mark_paid(bank_reference)
            if paid is not record.item:
                payout = store.transaction_by_key(uow.conn, f"payout:{paid.idempotency_key}")
                assert payout is not None, "a confirmed payout is posted"
                now = self._clock.now()
                settled = post_payout_paid(payout, transaction_id=new_id("ltx"), posted_at=now)
                store.insert_transaction(uow.conn, settled, now)
                self._save(uow, record, paid, PayoutPaid, bank_reference=bank_reference)
            uow.commit()
        return self._reload(payout_id)

    def mark_failed(self, principal: Principal, payout_id: str, reason: str) -> PayoutRecord:
        """The bank refused a confirmed payout: the payout is reversed in the ledger, and
        the movements it covered and the balance it netted off are due again at the next
        run. Repeating it changes nothing."""
        principal.require_role(Role.OPERATOR)
        if not reason.strip():
            raise ValidationFailed.on("reason", "Say why the payout failed", "required")
        with self._uow(principal.actor) as uow:
            record = self._payout(uow.conn, payout_id)
            failed = record.item.mark_failed(reason)
            if failed is not record.item:
                payout = store.transaction_by_key(uow.conn, f"payout:{failed.idempotency_key}")
                assert payout is not None, "a confirmed payout is posted"
                now = self._clock.now()
                store.insert_transaction(
                    uow.conn, reverse(payout, transaction_id=new_id("ltx"), posted_at=now), now
                )
                settlement_store.unsettle_payout(uow.conn, payout_id)
                if not failed.carried_in.is_zero():
                    balance = settlement_store.carried_balances(uow.conn, failed.amount.currency)
                    zero = Money.zero(failed.amount.currency)
                    restored = balance.get(failed.seller_id, zero) + failed.carried_in
                    settlement_store.set_balance(uow.conn, failed.seller_id, restored, now)
                self._save(uow, record, failed, PayoutFailed, reason=reason)
            uow.commit()
        return self._reload(payout_id)

    def _save(
        self,
        uow: SqlUnitOfWork,
        record: PayoutRecord,
        after: PayoutItem,
        event: type[PayoutPaid] | type[PayoutFailed],
        **fields: str,
    ) -> None:
        if not payout_store.update_payout(
            uow.conn, record.id, record.item, after, self._clock.now()
        ):
            raise Conflict("The payout changed meanwhile; retry")
        uow.record(
            event(payout_id=record.id, seller_id=after.seller_id, amount=after.amount, **fields)
        )

    def _reload(self, payout_id: str) -> PayoutRecord:
        with self._db.read() as conn:
            return self._payout(conn, payout_id)

    # --- sellers ----------------------------------------------------------------------------

    def seller_payouts(
        self, principal: Principal, *, after_id: str | None, limit: int
    ) -> list[PayoutRecord]:
        """The calling seller's payouts, newest first (confirmed or later)."""
        seller_id = seller_of_principal(principal)
        with self._db.read() as conn:
            return payout_store.payouts_of_seller(conn, seller_id, after_id=after_id, limit=limit)

    def seller_payout(self, principal: Principal, payout_id: str) -> PayoutRecord:
        """One of the calling seller's payouts; anyone else's is 404, as if it did not
        exist, so payout ids cannot be probed."""
        seller_id = seller_of_principal(principal)
        with self._db.read() as conn:
            record = self._payout(conn, payout_id)
        if record.item.seller_id != seller_id or record.item.status.value == "proposed":
            raise NotFound("No such payout")
        return record


def _payout_ids(batch: PayoutBatch, earlier: RunRecord | None) -> list[str]:
    """Ids for the batch's payouts: a payout planned again with the same key keeps its id."""
    known = earlier.item_ids if earlier is not None else {}
    fresh = iter(new_ids("pyo", len(batch.items)))
    return [known.get(item.idempotency_key) or next(fresh) for item in batch.items]
