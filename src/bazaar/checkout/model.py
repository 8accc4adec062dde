"""The checkout quote: what a cart costs delivered to one country, and why.

Pure Python; the parts a quote is made of are in :mod:`bazaar.checkout.quote_parts`.
:func:`quote` applies decided discounts, computes VAT and shipping per fulfiller, and
explains every amount that is not a plain unit price as an :class:`Adjustment`. The order
of calculation, which is the contract with the shopper:

1. line subtotal = unit price x quantity;
2. line discounts, then order discounts, each capped so no line goes below zero; an order
   discount is spread over the lines in proportion to what is left of each line, with
   ``Money.allocate``, so the shares add up to the discount exactly;
3. VAT per line on (subtotal - discount) at the destination's rate for the line's category
   rate class, rounded half-up per line;
4. shipping per fulfiller from that fulfiller's rules (thresholds compare the fulfiller's
   subtotal after discounts), taxed at the destination's *standard* rate - a simplification
   of the EU rule that shipping follows the goods' rate; stores selling mostly reduced-rate
   goods should configure tax-inclusive shipping prices with that in mind;
5. totals: grand total = sum of line totals + sum of shipping totals.

With tax-exclusive prices a line total is ``subtotal - discount + tax``; with tax-inclusive
prices it is ``subtotal - discount`` and the tax is the part of it that is VAT. The same
setting applies to shipping prices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from bazaar.checkout.addresses import COUNTRY_CODES, Address
from bazaar.checkout.quote_parts import (
    MAX_QUANTITY,
    MAX_WEIGHT_G,
    Adjustment,
    AdjustmentKind,
    AppliedDiscount,
    CheckoutLine,
    Discount,
    Quote,
    QuoteLine,
    ShippingCharge,
    Totals,
)
from bazaar.checkout.shipping import Parcel, ShippingRule, shipping_costs
from bazaar.checkout.tax import RateClass, RateClassResolver, TaxTable, tax_on
from bazaar.kernel.errors import CurrencyMismatch, FieldError, ValidationFailed
from bazaar.kernel.money import Money, sum_money


def _check_currencies(
    lines: Sequence[CheckoutLine], discounts: Sequence[Discount], currency: str
) -> None:
    fields = [(f"lines[{i}].unit_price", x.unit_price) for i, x in enumerate(lines)]
    fields += [(f"discounts[{i}].amount", d.amount) for i, d in enumerate(discounts)]
    errors = [
        FieldError(f"{name}.currency", f"The quote is in {currency}", CurrencyMismatch.code)
        for name, money in fields
        if money.currency != currency
    ]
    if errors:
        raise CurrencyMismatch(f"Everything in a quote must be in {currency}", errors=errors)


def _check_inputs(
    lines: Sequence[CheckoutLine], discounts: Sequence[Discount], country: str
) -> None:
    errors: list[FieldError] = []
    if country not in COUNTRY_CODES:
        errors.append(
            FieldError("shipping_address.country", "Not an ISO 3166-1 country code", "invalid")
        )
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.offer_id in seen:
            errors.append(FieldError(f"lines[{i}].offer_id", "Offer listed twice", "duplicate"))
        seen.add(line.offer_id)
        if type(line.quantity) is not int or not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                FieldError(f"lines[{i}].quantity", f"1 to {MAX_QUANTITY}", "out_of_range")
            )
        if line.unit_price.is_negative():
            errors.append(FieldError(f"lines[{i}].unit_price", "Must not be negative", "negative"))
        if type(line.weight_g) is not int or not 0 <= line.weight_g <= MAX_WEIGHT_G:
            errors.append(
                FieldError(f"lines[{i}].weight_g", f"Grams, 0 to {MAX_WEIGHT_G}", "out_of_range")
            )
    for i, discount in enumerate(discounts):
        if discount.amount.is_negative():
            errors.append(FieldError(f"discounts[{i}].amount", "Must not be negative", "negative"))
        if discount.offer_id is not None and discount.offer_id not in seen:
            errors.append(FieldError(f"discounts[{i}].offer_id", "No such line", "unknown_line"))
    if errors:
        raise ValidationFailed("The quote cannot be computed", errors=errors)


def _apply_discounts(
    subtotals: Sequence[Money], offer_ids: Sequence[str], discounts: Sequence[Discount]
) -> tuple[list[list[AppliedDiscount]], list[Adjustment]]:
    """Per line, the discounts that landed on it; and one adjustment per discount."""
    remaining = list(subtotals)
    applied: list[list[AppliedDiscount]] = [[] for _ in subtotals]
    adjustments: list[Adjustment] = []
    index = {offer_id: i for i, offer_id in enumerate(offer_ids)}
    # Line discounts first: they were decided per line, and an order discount spread over
    # what remains can then never push a line below zero.
    ordered = [d for d in discounts if d.offer_id is not None]
    ordered += [d for d in discounts if d.offer_id is None]
    for discount in ordered:
        if discount.offer_id is not None:
            i = index[discount.offer_id]
            amount = min(discount.amount, remaining[i])
            shares = [
                amount if j == i else Money.zero(amount.currency) for j in range(len(remaining))
            ]
        else:
            left = sum_money(remaining, discount.amount.currency)
            amount = min(discount.amount, left)
            # Weights are what is left of each line, so no share exceeds its line's rest.
            shares = (
                amount.allocate([r.amount for r in remaining])
                if not amount.is_zero()
                else [Money.zero(amount.currency)] * len(remaining)
            )
        for j, share in enumerate(shares):
            if not share.is_zero():
                remaining[j] = remaining[j] - share
                applied[j].append(AppliedDiscount(discount.rule_id, discount.label, share))
        adjustments.append(
            Adjustment(
                AdjustmentKind.DISCOUNT, amount, discount.label, discount.rule_id, discount.offer_id
            )
        )
    return applied, adjustments


def _rate_label(rate: Decimal) -> str:
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def _tax_adjustments(
    taxed: Iterable[tuple[RateClass, Decimal, Money]], country: str, included: bool
) -> list[Adjustment]:
    groups: dict[tuple[RateClass, Decimal], Money] = {}
    for rate_class, rate, tax in taxed:
        key = (rate_class, rate)
        groups[key] = groups[key] + tax if key in groups else tax
    return [
        Adjustment(
            AdjustmentKind.TAX,
            amount,
            f"VAT {_rate_label(rate)}{' included' if included else ''} ({country}, {rate_class})",
            f"tax:{country}:{rate_class}",
        )
        for (rate_class, rate), amount in groups.items()
    ]


def _resolver(
    rate_classes: RateClassResolver | Mapping[str, RateClass] | None,
) -> RateClassResolver:
    if rate_classes is None or isinstance(rate_classes, Mapping):
        classes: Mapping[str, RateClass] = rate_classes or {}

        def from_mapping(category_id: str) -> RateClass:
            return classes.get(category_id, RateClass.STANDARD)

        return from_mapping
    return rate_classes


def quote(
    lines: Sequence[CheckoutLine],
    *,
    destination: Address | str,
    tax_table: TaxTable,
    shipping_rules: Mapping[str, Sequence[ShippingRule]],
    discounts: Sequence[Discount] = (),
    prices_include_tax: bool,
    rate_classes: RateClassResolver | Mapping[str, RateClass] | None = None,
) -> Quote:
    """Price ``lines`` for delivery to ``destination`` (an address or a country code).

    ``shipping_rules`` maps fulfiller id to its ordered rules; ``rate_classes`` maps a
    category id to its VAT rate class (a resolver such as
    :func:`~bazaar.checkout.tax.category_rate_classes`, a plain mapping, or None for
    standard everywhere; a mapping without the category means standard).

    Guarantees: one currency throughout; no amount is negative; each discount's line shares
    sum exactly to its applied amount, which never exceeds what the lines still cost; tax
    is computed after discounts, per line; the grand total is the sum of line totals and
    shipping totals; every discount, shipping charge and tax rate appears as an
    :class:`Adjustment`. Raises ``ValidationFailed`` (fields ``lines[i].…``,
    ``discounts[i].…``, ``shipping_address.country``) for bad input, an unshippable or
    untaxable destination, and ``CurrencyMismatch`` when currencies differ.
    """
    if not lines:
        raise ValidationFailed.on("lines", "A quote needs at least one line", "required")
    currency = lines[0].unit_price.currency
    country = destination.country if isinstance(destination, Address) else destination
    country = country.strip().upper()
    _check_currencies(lines, discounts, currency)
    _check_inputs(lines, discounts, country)
    resolve = _resolver(rate_classes)

    subtotals = [line.unit_price * line.quantity for line in lines]
    applied, discount_adjustments = _apply_discounts(
        subtotals, [line.offer_id for line in lines], discounts
    )

    quoted: list[QuoteLine] = []
    for line, subtotal, line_discounts in zip(lines, subtotals, applied, strict=True):
        discount = sum_money((d.amount for d in line_discounts), currency)
        rate_class = resolve(line.category_id)
        rate = tax_table.rate(country, rate_class)
        taxable = subtotal - discount
        tax = tax_on(taxable, rate, included=prices_include_tax)
        total = taxable if prices_include_tax else taxable + tax
        quoted.append(
            QuoteLine(
                line.offer_id,
                line.sku,
                line.fulfiller_id,
                line.category_id,
                line.quantity,
                line.unit_price,
                line.weight_g,
                subtotal,
                discount,
                tuple(line_discounts),
                rate_class,
                rate,
                tax,
                total,
            )
        )

    parcels: dict[str, Parcel] = {}
    for q in quoted:
        taxable = q.subtotal - q.discount
        weight = q.weight_g * q.quantity
        before = parcels.get(q.fulfiller_id)
        parcels[q.fulfiller_id] = (
            Parcel(q.fulfiller_id, before.subtotal + taxable, before.weight_g + weight)
            if before is not None
            else Parcel(q.fulfiller_id, taxable, weight)
        )
    costs = shipping_costs(list(parcels.values()), country, shipping_rules)
    standard_rate = tax_table.rate(country, RateClass.STANDARD)
    charges: list[ShippingCharge] = []
    for cost in costs:
        tax = tax_on(cost.amount, standard_rate, included=prices_include_tax)
        total = cost.amount if prices_include_tax else cost.amount + tax
        charges.append(
            ShippingCharge(
                cost.fulfiller_id,
                cost.rule_id,
                cost.explanation,
                cost.amount,
                standard_rate,
                tax,
                total,
            )
        )

    shipping_adjustments = [
        Adjustment(
            AdjustmentKind.SHIPPING,
            c.amount,
            c.explanation,
            f"shipping:{c.rule_id}",
            c.fulfiller_id,
        )
        for c in charges
    ]
    taxed = [(q.rate_class, q.tax_rate, q.tax) for q in quoted]
    taxed += [(RateClass.STANDARD, c.tax_rate, c.tax) for c in charges]
    tax_adjustments = _tax_adjustments(taxed, country, prices_include_tax)

    totals = Totals(
        subtotal=sum_money((q.subtotal for q in quoted), currency),
        discount=sum_money((q.discount for q in quoted), currency),
        shipping=sum_money((c.amount for c in charges), currency),
        tax=sum_money((t for _, _, t in taxed), currency),
        grand_total=sum_money([*(q.total for q in quoted), *(c.total for c in charges)], currency),
    )
    return Quote(
        currency,
        country,
        prices_include_tax,
        tuple(quoted),
        tuple(charges),
        (*discount_adjustments, *shipping_adjustments, *tax_adjustments),
        totals,
    )
