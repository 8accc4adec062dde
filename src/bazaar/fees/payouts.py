"""Payout runs: which sellers are paid what, what is held and why; the payout state machine.

Pure Python. A run (weekly by default, see :func:`next_run_date`) plans a
:class:`PayoutBatch` from the movements of sellers' payable accounts that no earlier run
settled (:func:`~bazaar.fees.payable.payable_entries` reads them from the ledger). The rules:

* **Funds are held after delivery.** What an order brings a seller becomes available
  ``hold_days`` after that seller's part of the order was delivered (or ended: the caller
  passes the day a cancelled or rejected fulfillment ended). Until then it is held as
  ``awaiting_delivery`` or ``in_hold_period``; the hold never outlasts the return window
  (:func:`~bazaar.fees.payable.hold_within_return_window`). Refunds and cancellations of
  an order follow the order's availability, so a sale and its reversal are released
  together; fees and other movements are available on the day they were posted.
* **Per seller**, the run nets the balance carried from earlier runs (zero or negative)
  and the available movements. A suspended seller is paid nothing and nothing is settled.
  A negative (or zero) result is carried forward: the movements are settled into it and the
  next run starts from it. A positive result below ``minimum_payout`` waits for a later
  run, nothing settled. Otherwise the seller gets a :class:`PayoutItem` covering those
  movements and the carried balance.
* **Idempotency.** A payout's key is a SHA-256 of the run id, seller, amount, carried
  balance and covered transaction ids, so planning the same run from the same ledger gives
  the same keys, and the bank or gateway can refuse a second payment with the same key.
  Movements covered by a confirmed payout that has not failed must not be given to another
  run; when a payout fails, its movements and ``carried_in`` become unsettled again.

Payout status: proposed -> confirmed -> paid | failed; a batch: proposed -> confirmed.
Repeating a transition that already happened changes nothing, so a retried call is
harmless; any other move raises :class:`IllegalPayoutTransition` (409).
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from bazaar.fees.payable import PayableEntry
from bazaar.kernel.errors import Conflict, CurrencyMismatch, FieldError, ValidationFailed
from bazaar.kernel.money import Money, sum_money


class SellerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class HoldReason(StrEnum):
    SUSPENDED = "suspended"
    NEGATIVE_BALANCE = "negative_balance"
    BELOW_MINIMUM = "below_minimum"
    AWAITING_DELIVERY = "awaiting_delivery"
    IN_HOLD_PERIOD = "in_hold_period"


class PayoutStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    PAID = "paid"
    FAILED = "failed"


class BatchStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"


class IllegalPayoutTransition(Conflict):
    code = "illegal_transition"
    title = "Not allowed in the current state"


def _idempotency_key(
    run_id: str, seller_id: str, amount: Money, carried_in: Money, covered: Sequence[str]
) -> str:
    payload = json.dumps(
        {
            "run": run_id,
            "seller": seller_id,
            "amount": amount.to_dict(),
            "carried_in": carried_in.to_dict(),
            "covers": sorted(covered),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class PayoutItem:
    """One payout to one seller; ``carried_in`` is the negative balance it nets off."""

    seller_id: str
    amount: Money
    covered_transaction_ids: tuple[str, ...]
    carried_in: Money
    idempotency_key: str
    status: PayoutStatus = PayoutStatus.PROPOSED
    bank_reference: str | None = None
    failure_reason: str | None = None

    def _illegal(self, to: PayoutStatus) -> IllegalPayoutTransition:
        key = self.idempotency_key[:12]
        return IllegalPayoutTransition(f"Payout {key}... cannot go from {self.status} to {to}")

    def confirm(self) -> PayoutItem:
        """An operator approved it; repeating it changes nothing."""
        if self.status is PayoutStatus.CONFIRMED:
            return self
        if self.status is not PayoutStatus.PROPOSED:
            raise self._illegal(PayoutStatus.CONFIRMED)
        return replace(self, status=PayoutStatus.CONFIRMED)

    def mark_paid(self, bank_reference: str) -> PayoutItem:
        """The bank paid it; repeating it with the same reference changes nothing."""
        if self.status is PayoutStatus.PAID and self.bank_reference == bank_reference:
            return self
        if self.status is not PayoutStatus.CONFIRMED:
            raise self._illegal(PayoutStatus.PAID)
        return replace(self, status=PayoutStatus.PAID, bank_reference=bank_reference)

    def mark_failed(self, reason: str) -> PayoutItem:
        """The bank refused it; repeating it changes nothing."""
        if self.status is PayoutStatus.FAILED:
            return self
        if self.status is not PayoutStatus.CONFIRMED:
            raise self._illegal(PayoutStatus.FAILED)
        return replace(self, status=PayoutStatus.FAILED, failure_reason=reason)


@dataclass(frozen=True)
class HeldFunds:
    """Money a seller is not paid in this run, and why; ``available_on`` for funds in
    their hold period."""

    seller_id: str
    reason: HoldReason
    amount: Money
    transaction_ids: tuple[str, ...]
    available_on: date | None = None


@dataclass(frozen=True)
class CarriedBalance:
    """A seller's balance (zero or negative) for the next run to start from, and the
    movements this run settled into it."""

    seller_id: str
    amount: Money
    settled_transaction_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class PayoutBatch:
    """One run's plan: payouts to make, funds held with reasons, balances carried on.

    Once confirmed, post each item with :func:`~bazaar.fees.postings.post_payout` (its
    idempotency key as the payout id) and persist ``carried_forward`` with the movements
    it settles; record the bank's answers with :meth:`mark_paid` / :meth:`mark_failed`."""

    run_id: str
    as_of: date
    currency: str
    items: tuple[PayoutItem, ...]
    held: tuple[HeldFunds, ...]
    carried_forward: tuple[CarriedBalance, ...]
    status: BatchStatus = BatchStatus.PROPOSED

    @property
    def total(self) -> Money:
        return sum_money((item.amount for item in self.items), self.currency)

    def carried(self) -> dict[str, Money]:
        """The ``carried`` argument of the next run, once every item is paid."""
        return {c.seller_id: c.amount for c in self.carried_forward if not c.amount.is_zero()}

    def confirm(self) -> PayoutBatch:
        """An operator approved the batch and every payout in it; repeating it changes
        nothing."""
        if self.status is BatchStatus.CONFIRMED:
            return self
        items = tuple(item.confirm() for item in self.items)
        return replace(self, status=BatchStatus.CONFIRMED, items=items)

    def _change(
        self, idempotency_key: str, change: Callable[[PayoutItem], PayoutItem]
    ) -> PayoutBatch:
        if self.status is not BatchStatus.CONFIRMED:
            raise IllegalPayoutTransition(f"Batch {self.run_id} is not confirmed")
        keys = [item.idempotency_key for item in self.items]
        if idempotency_key not in keys:
            raise ValidationFailed.on("idempotency_key", "No such payout in this batch")
        i = keys.index(idempotency_key)
        return replace(self, items=(*self.items[:i], change(self.items[i]), *self.items[i + 1 :]))

    def mark_paid(self, idempotency_key: str, bank_reference: str) -> PayoutBatch:
        """Record that the bank paid one payout of the confirmed batch."""
        return self._change(idempotency_key, lambda item: item.mark_paid(bank_reference))

    def mark_failed(self, idempotency_key: str, reason: str) -> PayoutBatch:
        """Record that the bank refused one payout of the confirmed batch."""
        return self._change(idempotency_key, lambda item: item.mark_failed(reason))


def _check_run(
    sellers: Mapping[str, SellerStatus],
    entries: Sequence[PayableEntry],
    hold_days: int,
    carried: Mapping[str, Money],
    minimum: Money,
) -> None:
    errors: list[FieldError] = []
    if type(hold_days) is not int or hold_days < 0:
        errors.append(FieldError("hold_days", "Must be a whole number of days, 0 or more"))
    if minimum.is_negative():
        errors.append(FieldError("minimum_payout", "Must not be negative", "negative"))
    for i, entry in enumerate(entries):
        if entry.amount.currency != minimum.currency:
            message = f"The run pays in {minimum.currency}"
            raise CurrencyMismatch(message, errors=[FieldError(f"entries[{i}].amount", message)])
        if entry.seller_id not in sellers:
            errors.append(FieldError(f"entries[{i}].seller_id", "Unknown seller", "unknown"))
    for seller_id, balance in carried.items():
        if seller_id not in sellers:
            errors.append(FieldError(f"carried[{seller_id}]", "Unknown seller", "unknown"))
        elif balance.currency != minimum.currency or balance.amount > 0:
            message = f"Must be zero or negative, in {minimum.currency}"
            errors.append(FieldError(f"carried[{seller_id}]", message))
    if errors:
        raise ValidationFailed("Cannot plan this payout run", errors=errors)


def _pending(
    seller_id: str, pending: Sequence[tuple[PayableEntry, date | None]]
) -> list[HeldFunds]:
    groups: dict[date | None, list[PayableEntry]] = {}
    for entry, available_on in pending:
        groups.setdefault(available_on, []).append(entry)
    return [
        HeldFunds(
            seller_id,
            HoldReason.AWAITING_DELIVERY if day is None else HoldReason.IN_HOLD_PERIOD,
            sum_money((e.amount for e in group), group[0].amount.currency),
            tuple(sorted(e.transaction_id for e in group)),
            day,
        )
        for day, group in sorted(groups.items(), key=lambda g: (g[0] is None, g[0] or date.min))
    ]


def plan_payout_run(
    run_id: str,
    as_of: date,
    *,
    sellers: Mapping[str, SellerStatus],
    entries: Sequence[PayableEntry],
    hold_days: int,
    minimum_payout: Money,
    carried: Mapping[str, Money] | None = None,
) -> PayoutBatch:
    """Plan run ``run_id`` on day ``as_of`` in the currency of ``minimum_payout``, by the
    rules in the module docstring. ``entries`` are the unsettled movements, ``carried`` the
    balances earlier runs carried forward.

    Guarantees: sellers appear in id order and everything is sorted, so the same inputs
    give an equal batch with the same idempotency keys; every item is at least
    ``minimum_payout`` and above zero; each movement in ``entries`` is exactly once either
    covered by an item, settled into a carried balance, or held (the held funds of a
    negative balance list the movements its carried balance settles). Raises
    ``ValidationFailed`` (``hold_days``, ``minimum_payout``, ``entries[i].seller_id``,
    ``carried[<seller>]``) and ``CurrencyMismatch`` for bad input.
    """
    carried = carried or {}
    _check_run(sellers, entries, hold_days, carried, minimum_payout)
    currency = minimum_payout.currency
    zero = Money.zero(currency)
    items: list[PayoutItem] = []
    held: list[HeldFunds] = []
    carried_forward: list[CarriedBalance] = []
    for seller_id in sorted({e.seller_id for e in entries} | set(carried)):
        ready: list[PayableEntry] = []
        pending: list[tuple[PayableEntry, date | None]] = []
        for entry in (e for e in entries if e.seller_id == seller_id):
            available_on = entry.available_on(hold_days)
            if available_on is not None and available_on <= as_of:
                ready.append(entry)
            else:
                pending.append((entry, available_on))
        held += _pending(seller_id, pending)
        carried_in = carried.get(seller_id, zero)
        ids = tuple(sorted(e.transaction_id for e in ready))
        total = carried_in + sum_money((e.amount for e in ready), currency)
        if sellers.get(seller_id) is SellerStatus.SUSPENDED:
            if ids or not total.is_zero():
                held.append(HeldFunds(seller_id, HoldReason.SUSPENDED, total, ids))
            if not carried_in.is_zero():
                carried_forward.append(CarriedBalance(seller_id, carried_in))
        elif total.amount <= 0:
            if total.is_negative():
                held.append(HeldFunds(seller_id, HoldReason.NEGATIVE_BALANCE, total, ids))
            if ids or not total.is_zero():
                carried_forward.append(CarriedBalance(seller_id, total, ids))
        elif total < minimum_payout:
            held.append(HeldFunds(seller_id, HoldReason.BELOW_MINIMUM, total, ids))
            if not carried_in.is_zero():
                carried_forward.append(CarriedBalance(seller_id, carried_in))
        else:
            key = _idempotency_key(run_id, seller_id, total, carried_in, ids)
            items.append(PayoutItem(seller_id, total, ids, carried_in, key))
    return PayoutBatch(run_id, as_of, currency, tuple(items), tuple(held), tuple(carried_forward))


def next_run_date(after: date, weekday: int = calendar.MONDAY) -> date:
    """The first ``weekday`` (0 Monday .. 6 Sunday) strictly after ``after``: runs are
    weekly, and a run never repeats the day it ran. Raises ``ValidationFailed`` on
    ``weekday`` outside 0..6."""
    if type(weekday) is not int or not 0 <= weekday <= 6:
        raise ValidationFailed.on("weekday", "Must be 0 (Monday) to 6 (Sunday)", "out_of_range")
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)
