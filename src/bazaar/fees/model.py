"""Fee rules: commission per sold line, a fixed fee per seller per order, monthly listing fees;
and the money of a paid order (:class:`PaidOrder`) and of a refund, which the rules apply to
and :mod:`bazaar.fees.postings` turns into ledger transactions.

Pure Python. Rates are ``Decimal`` fractions (``Decimal("0.12")`` is 12 %) and every amount is
:class:`~bazaar.kernel.money.Money`; rounding is ``Money.percentage`` (half up, once per line).
A schedule is validated when it is built, so an invalid one never exists: bad rates and
negative amounts raise ``ValidationFailed`` naming the field (``category_rates[cat_x]``,
``seller_overrides[sel_a].rate``, ``order_fee``...).

**Commission basis.** By default commission is charged on the line's amount net of VAT, after
discounts (:attr:`CommissionBasis.NET_AFTER_DISCOUNT`). In Bazaar the retailer is the merchant
of record and remits the VAT on every line, so VAT never reaches the seller: commission on it
would bill the seller for money it never receives. A discount lowers what was actually sold,
so it lowers the commission too. Marketplaces that charge on the price the customer paid,
tax included (Amazon's referral fee, some Mirakl setups), use
:attr:`CommissionBasis.GROSS_AFTER_DISCOUNT`.

**Which rate applies** to a line, first match wins. Terms negotiated with a seller beat the
public grid, and within each the nearest category wins:

1. the seller's rate for the line's category, else for its nearest ancestor that has one;
2. the seller's overall rate;
3. the marketplace rate for the category, else for its nearest ancestor that has one;
4. the schedule's default rate.

The minimum per line then applies, and the result is capped at the basis amount, so a line
never costs the seller more in commission than it sold for (and a free line costs nothing).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from bazaar.kernel.errors import CurrencyMismatch, FieldError, ValidationFailed
from bazaar.kernel.money import Money, exponent, sum_money


class CommissionBasis(StrEnum):
    NET_AFTER_DISCOUNT = "net_after_discount"  # subtotal - discount, VAT excluded
    GROSS_AFTER_DISCOUNT = "gross_after_discount"  # what the customer paid, VAT included


def _rate_errors(name: str, rate: object) -> list[FieldError]:
    # A float rate would already have lost precision; refuse it rather than convert it.
    if not isinstance(rate, Decimal) or not rate.is_finite():
        return [FieldError(name, "Must be a decimal fraction such as 0.12", "invalid")]
    if not 0 <= rate <= 1:
        return [FieldError(name, "Must be between 0 and 1 (0 % to 100 %)", "out_of_range")]
    return []


def _amount_errors(name: str, amount: Money, currency: str) -> list[FieldError]:
    if amount.currency != currency:
        return [FieldError(f"{name}.currency", f"Must be in {currency}", CurrencyMismatch.code)]
    if amount.is_negative():
        return [FieldError(name, "Must not be negative", "negative")]
    return []


@dataclass(frozen=True)
class SellerCommission:
    """Commission negotiated with one seller: an overall rate and/or rates per category.

    What is left out falls back to the marketplace grid (see the module docstring)."""

    rate: Decimal | None = None
    category_rates: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Commission:
    """The commission on one line: the rate used, the amount it applied to, the result."""

    rate: Decimal
    base: Money
    amount: Money


@dataclass(frozen=True)
class CommissionSchedule:
    """Commission rates by category with per-seller overrides, in one currency.

    ``minimum_per_line`` (None: no minimum) is charged when the rate gives less. Building a
    schedule raises ``ValidationFailed`` for rates outside 0..1, negative amounts and amounts
    in another currency, with one ``FieldError`` per bad field.
    """

    currency: str
    default_rate: Decimal
    category_rates: Mapping[str, Decimal] = field(default_factory=dict)
    seller_overrides: Mapping[str, SellerCommission] = field(default_factory=dict)
    minimum_per_line: Money | None = None
    basis: CommissionBasis = CommissionBasis.NET_AFTER_DISCOUNT

    def __post_init__(self) -> None:
        exponent(self.currency)  # raises ValidationFailed on field "currency"
        errors = _rate_errors("default_rate", self.default_rate)
        for category_id, rate in self.category_rates.items():
            errors += _rate_errors(f"category_rates[{category_id}]", rate)
        for seller_id, terms in self.seller_overrides.items():
            name = f"seller_overrides[{seller_id}]"
            if terms.rate is not None:
                errors += _rate_errors(f"{name}.rate", terms.rate)
            for category_id, rate in terms.category_rates.items():
                errors += _rate_errors(f"{name}.category_rates[{category_id}]", rate)
        if self.minimum_per_line is not None:
            errors += _amount_errors("minimum_per_line", self.minimum_per_line, self.currency)
        if errors:
            raise ValidationFailed("The commission schedule is invalid", errors=errors)

    @property
    def minimum(self) -> Money:
        return self.minimum_per_line or Money.zero(self.currency)

    def rate_for(
        self, seller_id: str, category_id: str, category_ancestors: Sequence[str] = ()
    ) -> Decimal:
        """The rate for a line of ``seller_id`` in ``category_id``, whose ancestors are
        ``category_ancestors`` (nearest first), by the precedence in the module docstring."""
        chain = (category_id, *category_ancestors)
        terms = self.seller_overrides.get(seller_id)
        if terms is not None:
            for category in chain:
                if category in terms.category_rates:
                    return terms.category_rates[category]
            if terms.rate is not None:
                return terms.rate
        for category in chain:
            if category in self.category_rates:
                return self.category_rates[category]
        return self.default_rate


def commission_for_line(
    schedule: CommissionSchedule,
    *,
    seller_id: str,
    category_id: str,
    category_ancestors: Sequence[str] = (),
    net: Money,
    tax: Money,
) -> Commission:
    """The commission on one sold line whose amount after discounts is ``net`` + ``tax``.

    Guarantees: the base is ``net`` (or ``net + tax`` on the gross basis); the amount is the
    base times the rate, rounded half up once, raised to the schedule's minimum and capped
    at the base, so it is never negative and never more than the base. Raises
    ``ValidationFailed`` on ``net``/``tax`` when negative, ``CurrencyMismatch`` when they
    are not in the schedule's currency.
    """
    errors = _amount_errors("net", net, schedule.currency)
    errors += _amount_errors("tax", tax, schedule.currency)
    if any(e.code == CurrencyMismatch.code for e in errors):
        raise CurrencyMismatch(f"The schedule is in {schedule.currency}", errors=errors)
    if errors:
        raise ValidationFailed("Cannot compute commission", errors=errors)
    base = net if schedule.basis is CommissionBasis.NET_AFTER_DISCOUNT else net + tax
    rate = schedule.rate_for(seller_id, category_id, category_ancestors)
    amount = min(max(base.percentage(rate), schedule.minimum), base)
    return Commission(rate, base, amount)


@dataclass(frozen=True)
class FeeSchedule:
    """Everything the operator charges sellers: commission, a fixed fee per order per seller
    (``order_fee``, overridable per seller) and a monthly fee per active listing.

    Raises ``ValidationFailed`` for negative amounts or amounts in another currency than the
    commission schedule's."""

    commission: CommissionSchedule
    order_fee: Money
    monthly_listing_fee: Money
    order_fee_overrides: Mapping[str, Money] = field(default_factory=dict)

    def __post_init__(self) -> None:
        currency = self.commission.currency
        errors = _amount_errors("order_fee", self.order_fee, currency)
        errors += _amount_errors("monthly_listing_fee", self.monthly_listing_fee, currency)
        for seller_id, fee in self.order_fee_overrides.items():
            errors += _amount_errors(f"order_fee_overrides[{seller_id}]", fee, currency)
        if errors:
            raise ValidationFailed("The fee schedule is invalid", errors=errors)

    @property
    def currency(self) -> str:
        return self.commission.currency


def order_fee(fees: FeeSchedule, seller_id: str) -> Money:
    """The fixed fee ``seller_id`` pays once for each order it has lines in."""
    return fees.order_fee_overrides.get(seller_id, fees.order_fee)


# -- the money of a paid order ------------------------------------------------------------


@dataclass(frozen=True)
class PaidLine:
    """One order line as money: ``net`` is after discounts and without VAT, ``gross`` is
    what the customer paid for it (``net + tax``). ``seller_id`` None: the retailer's own
    line. ``refunded_quantity`` is how many units earlier refunds returned."""

    line_id: str
    seller_id: str | None
    category_id: str
    quantity: int
    net: Money
    tax: Money
    gross: Money
    category_ancestors: tuple[str, ...] = ()  # nearest first, for commission inheritance
    refunded_quantity: int = 0


@dataclass(frozen=True)
class PaidShipping:
    """One fulfiller's shipping charge; ``seller_id`` None when the retailer ships."""

    fulfiller_id: str
    seller_id: str | None
    net: Money
    tax: Money
    gross: Money
    refunded: bool = False


@dataclass(frozen=True)
class PaidOrder:
    """An order's money, as the orders context knows it (``net = total - tax`` per line).

    Construction raises ``ValueError`` when amounts do not add up or ids repeat: that is a
    bug in whoever built it, as with the orders model."""

    order_id: str
    currency: str
    paid_at: datetime
    lines: tuple[PaidLine, ...]
    shipping: tuple[PaidShipping, ...] = ()

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("A paid order has at least one line")
        if len({x.line_id for x in self.lines}) != len(self.lines):
            raise ValueError("Line ids must be unique")
        if len({s.fulfiller_id for s in self.shipping}) != len(self.shipping):
            raise ValueError("One shipping charge per fulfiller")
        for x in self.lines:
            if x.quantity < 1 or not 0 <= x.refunded_quantity <= x.quantity:
                raise ValueError(f"Line {x.line_id}: bad quantities")
            self._check(x.line_id, x.net, x.tax, x.gross)
        for s in self.shipping:
            self._check(f"shipping {s.fulfiller_id}", s.net, s.tax, s.gross)

    def _check(self, what: str, net: Money, tax: Money, gross: Money) -> None:
        if {net.currency, tax.currency, gross.currency} != {self.currency}:
            raise ValueError(f"{what}: not in {self.currency}")
        if net.is_negative() or tax.is_negative() or gross != net + tax:
            raise ValueError(f"{what}: amounts do not add up")

    def line(self, line_id: str) -> PaidLine:
        """The line ``line_id``; raises ``KeyError`` when the order has none."""
        for x in self.lines:
            if x.line_id == line_id:
                return x
        raise KeyError(line_id)

    @property
    def seller_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(x.seller_id for x in self.lines if x.seller_id is not None))


@dataclass(frozen=True)
class RefundUnits:
    line_id: str
    units: int


@dataclass(frozen=True)
class Refund:
    """Units of lines and whole shipping charges (by fulfiller) given back in one refund."""

    refund_id: str
    refunded_at: datetime
    lines: tuple[RefundUnits, ...] = ()
    shipping_for: tuple[str, ...] = ()


# -- listing fees -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveInterval:
    """Days a listing was active, both ends included; ``last_day`` None: still active."""

    first_day: date
    last_day: date | None = None


@dataclass(frozen=True)
class ListingActivity:
    listing_id: str
    seller_id: str
    intervals: tuple[ActiveInterval, ...]


@dataclass(frozen=True)
class ListingFee:
    listing_id: str
    seller_id: str
    active_days: int
    amount: Money


def _active_days(intervals: Sequence[ActiveInterval], first: date, last: date) -> set[date]:
    days: set[date] = set()
    for interval in intervals:
        start = max(interval.first_day, first)
        end = min(interval.last_day or last, last)
        days.update(start + timedelta(n) for n in range((end - start).days + 1))
    return days


def _check_listings(listings: Sequence[ListingActivity], month: date, fee: Money) -> None:
    errors: list[FieldError] = []
    if month.day != 1:
        errors.append(FieldError("month", "Must be the first day of a month", "invalid"))
    if fee.is_negative():
        errors.append(FieldError("monthly_fee", "Must not be negative", "negative"))
    seen: set[str] = set()
    for i, listing in enumerate(listings):
        if listing.listing_id in seen:
            errors.append(FieldError(f"listings[{i}].listing_id", "Listed twice", "duplicate"))
        seen.add(listing.listing_id)
        for j, interval in enumerate(listing.intervals):
            if interval.last_day is not None and interval.last_day < interval.first_day:
                name = f"listings[{i}].intervals[{j}].last_day"
                errors.append(FieldError(name, "Must not be before first_day", "out_of_range"))
    if errors:
        raise ValidationFailed("Cannot compute listing fees", errors=errors)


def listing_fees(
    listings: Sequence[ListingActivity], month: date, monthly_fee: Money
) -> list[ListingFee]:
    """The fee of each listing active on at least one day of ``month`` (its first day).

    The monthly fee is split into one share per day of the month with ``Money.split``, and a
    listing pays the shares of the days it was active (overlapping intervals count a day
    once). Guarantees: a listing active all month pays exactly ``monthly_fee``; the fees of
    listings covering disjoint days of the month sum to at most ``monthly_fee`` and to
    exactly that when together they cover every day, so prorations never gain or lose a
    cent. Raises ``ValidationFailed`` (``month``, ``monthly_fee``,
    ``listings[i].intervals[j].last_day``, ``listings[i].listing_id``) for bad input.
    """
    _check_listings(listings, month, monthly_fee)
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    last = month.replace(day=days_in_month)
    day_shares = monthly_fee.split(days_in_month)
    fees: list[ListingFee] = []
    for listing in listings:
        days = _active_days(listing.intervals, month, last)
        if days:
            amount = sum_money((day_shares[d.day - 1] for d in days), monthly_fee.currency)
            fees.append(ListingFee(listing.listing_id, listing.seller_id, len(days), amount))
    return fees


def listing_fees_by_seller(fees: Sequence[ListingFee], currency: str) -> dict[str, Money]:
    """Each seller's total listing fees, sellers in first-seen order."""
    totals: dict[str, Money] = {}
    for fee in fees:
        totals[fee.seller_id] = totals.get(fee.seller_id, Money.zero(currency)) + fee.amount
    return totals
