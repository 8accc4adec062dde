"""Business events as ledger transactions: an order paid, refunds, listing fees, payouts.

Pure Python; every function returns a balanced :class:`~bazaar.fees.ledger.Transaction`
and leaves storing it to the caller. The accounting rules:

* **The retailer is the merchant of record.** The customer pays the retailer for the whole
  order, so all VAT - on sellers' lines and shipping too - is credited to ``vat_payable``,
  and sellers are owed amounts net of VAT. Commission is charged on those net amounts
  (see :mod:`bazaar.fees.model`).
* **A seller's line**: debit ``customer_payments_clearing`` with what the customer paid,
  credit ``vat_payable`` with the VAT and the seller's payable with the net amount (a
  *sale*), then debit the seller's payable and credit ``commission_revenue`` with the
  commission. Sale and commission are separate entries so the seller's statement shows
  both. **A first-party line** credits the net amount to ``retailer_sales_revenue``.
* **Shipping goes to whoever fulfils it**: a seller's shipping charge, net of VAT, is
  credited to that seller's payable (no commission on shipping); the retailer's to
  ``retailer_sales_revenue``.
* **The order fee**: each seller with lines in the order is debited the fixed fee once,
  credited to ``order_fee_revenue``.
* **Refunds** reverse exactly the entries of what they return. Each unit of a line owns a
  fixed share of each of the line's entries (``Money.split`` over the line's quantity,
  units refunded in a fixed order - the rule the orders model uses for what the customer
  gets back, so the amounts agree to the cent). A refund mirrors the shares of its units,
  with ``refunds_payable`` in place of the clearing account until the gateway has paid
  the customer (:func:`post_refund_paid`). The line's sale entry absorbs rounding so each
  refund balances; since every entry's shares sum to it, refunding all units in any number
  of steps mirrors the original posting exactly. Commission goes back to the seller with
  its units. The order fee goes back with the refund of the seller's last unit: it pays
  for handling an order, and if every unit comes back there was no sale to handle.
  Shipping is refunded whole.
* **Payouts** move money from the seller's payable to ``payouts_in_transit`` when an
  operator confirms them, and from there to ``bank`` when the bank confirms; a failed
  payout is undone with :func:`~bazaar.fees.ledger.reverse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

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
    Entry,
    Purpose,
    Transaction,
    TransactionKind,
    seller_payable,
)
from bazaar.fees.model import (
    FeeSchedule,
    PaidLine,
    PaidOrder,
    Refund,
    RefundUnits,
    commission_for_line,
    order_fee,
)
from bazaar.kernel.errors import CurrencyMismatch, FieldError, ValidationFailed
from bazaar.kernel.money import Money, sum_money


def shipping_item(fulfiller_id: str) -> str:
    return f"shipping:{fulfiller_id}"


def order_fee_item(seller_id: str) -> str:
    return f"order_fee:{seller_id}"


def _legs(item: str, legs: Sequence[tuple[Account, Money, Purpose]]) -> list[Entry]:
    # Legs are signed (debit positive); zero legs move nothing and are left out.
    return [
        Entry.from_signed(account, signed, purpose, item)
        for account, signed, purpose in legs
        if not signed.is_zero()
    ]


def _owner(seller_id: str | None) -> Account:
    return seller_payable(seller_id) if seller_id is not None else RETAILER_SALES_REVENUE


def post_order_paid(order: PaidOrder, fees: FeeSchedule, *, transaction_id: str) -> Transaction:
    """The ``order_paid`` transaction for ``order``, by the rules in the module docstring.

    Guarantees: it balances; the clearing account is debited exactly the order's total;
    VAT payable is credited exactly its VAT; each seller's payable moves by its net sales
    and shipping minus commission and one order fee. Raises ``CurrencyMismatch`` when the
    schedule is in another currency and ``ValueError`` when a line was already refunded.
    """
    if fees.currency != order.currency:
        message = f"The fee schedule is in {fees.currency}, the order in {order.currency}"
        errors = [FieldError("currency", message, CurrencyMismatch.code)]
        raise CurrencyMismatch(message, errors=errors)
    if any(x.refunded_quantity for x in order.lines) or any(s.refunded for s in order.shipping):
        raise ValueError(f"Order {order.order_id}: post the payment before any refund")
    entries: list[Entry] = []
    for x in order.lines:
        owner = _owner(x.seller_id)
        legs = [
            (CUSTOMER_PAYMENTS_CLEARING, x.gross, Purpose.PAYMENT),
            (VAT_PAYABLE, -x.tax, Purpose.VAT),
            (owner, -x.net, Purpose.SALE),
        ]
        if x.seller_id is not None:
            commission = commission_for_line(
                fees.commission,
                seller_id=x.seller_id,
                category_id=x.category_id,
                category_ancestors=x.category_ancestors,
                net=x.net,
                tax=x.tax,
            ).amount
            legs.append((owner, commission, Purpose.COMMISSION))
            legs.append((COMMISSION_REVENUE, -commission, Purpose.COMMISSION))
        entries += _legs(x.line_id, legs)
    for s in order.shipping:
        entries += _legs(
            shipping_item(s.fulfiller_id),
            [
                (CUSTOMER_PAYMENTS_CLEARING, s.gross, Purpose.PAYMENT),
                (VAT_PAYABLE, -s.tax, Purpose.VAT),
                (_owner(s.seller_id), -s.net, Purpose.SHIPPING),
            ],
        )
    for seller_id in order.seller_ids:
        fee = order_fee(fees, seller_id)
        entries += _legs(
            order_fee_item(seller_id),
            [
                (seller_payable(seller_id), fee, Purpose.ORDER_FEE),
                (ORDER_FEE_REVENUE, -fee, Purpose.ORDER_FEE),
            ],
        )
    return Transaction(
        transaction_id, TransactionKind.ORDER_PAID, order.order_id, order.paid_at, tuple(entries)
    )


def _check_refund(order: PaidOrder, refund: Refund) -> None:
    errors: list[FieldError] = []
    if not refund.lines and not refund.shipping_for:
        errors.append(FieldError("lines", "Nothing to refund", "required"))
    seen: set[str] = set()
    for i, units in enumerate(refund.lines):
        try:
            line = order.line(units.line_id)
        except KeyError:
            errors.append(FieldError(f"lines[{i}].line_id", "No such line", "unknown_line"))
            continue
        left = line.quantity - line.refunded_quantity
        if units.line_id in seen:
            errors.append(FieldError(f"lines[{i}].line_id", "Listed twice", "duplicate"))
        elif type(units.units) is not int or not 1 <= units.units <= left:
            message = f"Must be 1 to {left}" if left else "Nothing left to refund"
            errors.append(FieldError(f"lines[{i}].units", message, "out_of_range"))
        seen.add(units.line_id)
    unrefunded = {s.fulfiller_id for s in order.shipping if not s.refunded}
    for i, fulfiller_id in enumerate(refund.shipping_for):
        if fulfiller_id not in unrefunded or refund.shipping_for.index(fulfiller_id) != i:
            name = f"shipping_for[{i}]"
            errors.append(FieldError(name, "No unrefunded shipping", "not_refundable"))
    if errors:
        raise ValidationFailed("Cannot refund this", errors=errors)


def _mirror(entry: Entry, signed_share: Money) -> list[Entry]:
    # What was taken from the customer is now owed back to them: refunds_payable, not
    # clearing, until the gateway has actually paid the refund.
    if entry.account == CUSTOMER_PAYMENTS_CLEARING:
        return _legs(entry.item, [(REFUNDS_PAYABLE, -signed_share, Purpose.REFUND)])
    return _legs(entry.item, [(entry.account, -signed_share, entry.purpose)])


def _refund_units(entries: Sequence[Entry], line: PaidLine, units: int) -> list[Entry]:
    start = line.refunded_quantity
    currency = line.gross.currency
    shares = [
        sum_money(e.signed.split(line.quantity)[start : start + units], currency) for e in entries
    ]
    # Each share is rounded to a whole minor unit on its own, so the shares may not balance;
    # the sale entry takes the difference. Over all units the differences sum to zero, because every
    # entry's shares sum to the entry and the original balanced.
    off = sum_money(shares, currency)
    owner = _owner(line.seller_id)
    refunded: list[Entry] = []
    for entry, share in zip(entries, shares, strict=True):
        if not off.is_zero() and entry.account == owner and entry.purpose is Purpose.SALE:
            share, off = share - off, Money.zero(currency)
        refunded += _mirror(entry, share)
    if not off.is_zero():  # the line had no sale entry to absorb it
        refunded += _legs(line.line_id, [(owner, off, Purpose.SALE)])
    return refunded


def post_refund(
    original: Transaction,
    order: PaidOrder,
    refund: Refund,
    *,
    transaction_id: str,
    kind: TransactionKind = TransactionKind.REFUND,
) -> Transaction:
    """The transaction reversing what ``refund`` gives back of ``order``, whose payment was
    posted as ``original``. ``order`` is its state *before* this refund (``refunded_quantity``
    and ``refunded`` flags from earlier refunds).

    Guarantees: it balances; ``refunds_payable`` is credited exactly what the orders model
    refunds the customer for the same units and shipping; every unit's share of every entry
    is reversed once, so all refunds of all units together mirror ``original`` exactly (with
    ``refunds_payable`` for the clearing account). Raises ``ValidationFailed`` (fields
    ``lines[i].line_id``, ``lines[i].units``, ``shipping_for[i]``) for what cannot be
    refunded and ``ValueError`` when ``original`` is not the payment of ``order``.
    """
    if original.kind is not TransactionKind.ORDER_PAID or original.reference != order.order_id:
        raise ValueError(f"{original.id} is not the payment of order {order.order_id}")
    if kind not in (TransactionKind.REFUND, TransactionKind.CANCELLATION):
        raise ValueError(f"A refund is posted as a refund or a cancellation, not {kind}")
    _check_refund(order, refund)
    by_item: dict[str, list[Entry]] = {}
    for entry in original.entries:
        by_item.setdefault(entry.item, []).append(entry)

    entries: list[Entry] = []
    refunding = {u.line_id: u.units for u in refund.lines}
    for units in refund.lines:
        line = order.line(units.line_id)
        entries += _refund_units(by_item.get(line.line_id, []), line, units.units)
    for fulfiller_id in refund.shipping_for:
        for entry in by_item.get(shipping_item(fulfiller_id), []):
            entries += _mirror(entry, entry.signed)
    for seller_id in order.seller_ids:
        lines = [x for x in order.lines if x.seller_id == seller_id]
        returns_units = any(x.line_id in refunding for x in lines)
        all_back = all(
            x.refunded_quantity + refunding.get(x.line_id, 0) == x.quantity for x in lines
        )
        if returns_units and all_back:
            for entry in by_item.get(order_fee_item(seller_id), []):
                entries += _mirror(entry, entry.signed)
    return Transaction(
        transaction_id,
        kind,
        refund.refund_id,
        refund.refunded_at,
        tuple(entries),
        original_id=original.id,
    )


def post_cancellation(
    original: Transaction,
    order: PaidOrder,
    *,
    refund_id: str,
    cancelled_at: datetime,
    transaction_id: str,
) -> Transaction:
    """A ``cancellation``: the refund of every unit and shipping charge not yet refunded.

    Guarantees: together with earlier refunds it mirrors ``original`` exactly, so every
    account is back where it was before the order (once the refund is paid). Raises
    ``ValidationFailed`` on ``lines`` when nothing is left to refund.
    """
    refund = Refund(
        refund_id,
        cancelled_at,
        tuple(
            RefundUnits(x.line_id, x.quantity - x.refunded_quantity)
            for x in order.lines
            if x.refunded_quantity < x.quantity
        ),
        tuple(s.fulfiller_id for s in order.shipping if not s.refunded),
    )
    return post_refund(
        original, order, refund, transaction_id=transaction_id, kind=TransactionKind.CANCELLATION
    )


def _settle(
    source: Transaction,
    owed_on: Account,
    paid_from: Account,
    purpose: Purpose,
    kind: TransactionKind,
    transaction_id: str,
    posted_at: datetime,
) -> Transaction:
    owed: dict[str, Money] = {}
    for entry in source.entries:
        if entry.account == owed_on:
            currency = entry.amount.currency
            owed[currency] = owed.get(currency, Money.zero(currency)) - entry.signed
    legs = [leg for m in owed.values() for leg in ((owed_on, m, purpose), (paid_from, -m, purpose))]
    return Transaction(
        transaction_id,
        kind,
        source.reference,
        posted_at,
        tuple(_legs("", legs)),
        original_id=source.id,
    )


def post_refund_paid(
    refund: Transaction, *, transaction_id: str, posted_at: datetime
) -> Transaction:
    """The gateway paid ``refund`` back to the customer: what it put on ``refunds_payable``
    moves to ``customer_payments_clearing``. Raises ``ValueError`` for a non-refund."""
    if refund.kind not in (TransactionKind.REFUND, TransactionKind.CANCELLATION):
        raise ValueError(f"{refund.id} is a {refund.kind}, not a refund")
    return _settle(
        refund,
        REFUNDS_PAYABLE,
        CUSTOMER_PAYMENTS_CLEARING,
        Purpose.REFUND,
        TransactionKind.REFUND_PAID,
        transaction_id,
        posted_at,
    )


def _positive(amount: Money) -> None:
    if amount.amount <= 0:
        raise ValidationFailed.on("amount", "Must be above zero", "out_of_range")


def post_listing_fees(
    seller_id: str, amount: Money, month: date, *, transaction_id: str, posted_at: datetime
) -> Transaction:
    """Charge ``seller_id`` its listing fees for ``month``: debit its payable, credit
    ``listing_fee_revenue``. The reference ``<seller id>:<YYYY-MM>`` makes a second charge
    for the same month a ``duplicate_reference`` in :func:`~bazaar.fees.ledger.check_ledger`.
    Raises ``ValidationFailed`` on ``amount`` unless it is above zero."""
    _positive(amount)
    period = f"{month.year:04d}-{month.month:02d}"
    legs = [
        (seller_payable(seller_id), amount, Purpose.LISTING_FEE),
        (LISTING_FEE_REVENUE, -amount, Purpose.LISTING_FEE),
    ]
    return Transaction(
        transaction_id,
        TransactionKind.LISTING_FEES,
        f"{seller_id}:{period}",
        posted_at,
        tuple(_legs(f"listing_fees:{period}", legs)),
    )


def post_payout(
    seller_id: str, amount: Money, payout_id: str, *, transaction_id: str, posted_at: datetime
) -> Transaction:
    """An operator confirmed paying ``amount`` to ``seller_id``: it leaves the seller's
    payable for ``payouts_in_transit``. Reverse it if the payout fails. Raises
    ``ValidationFailed`` on ``amount`` unless it is above zero."""
    _positive(amount)
    legs = [
        (seller_payable(seller_id), amount, Purpose.PAYOUT),
        (PAYOUTS_IN_TRANSIT, -amount, Purpose.PAYOUT),
    ]
    return Transaction(
        transaction_id, TransactionKind.PAYOUT, payout_id, posted_at, tuple(_legs("", legs))
    )


def post_payout_paid(
    payout: Transaction, *, transaction_id: str, posted_at: datetime
) -> Transaction:
    """The bank paid ``payout``: its amount leaves ``payouts_in_transit`` and ``bank``.
    Raises ``ValueError`` for a non-payout."""
    if payout.kind is not TransactionKind.PAYOUT:
        raise ValueError(f"{payout.id} is a {payout.kind}, not a payout")
    return _settle(
        payout,
        PAYOUTS_IN_TRANSIT,
        BANK,
        Purpose.PAYOUT,
        TransactionKind.PAYOUT_PAID,
        transaction_id,
        posted_at,
    )
