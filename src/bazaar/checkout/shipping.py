"""Shipping charges per fulfiller.

Pure Python. Each fulfiller has an ordered list of :class:`ShippingRule`; the first rule
that ships to the destination and carries the parcel's weight prices it. A rule charges a
flat rate or a price by weight band, and is free when the fulfiller's subtotal after
discounts reaches ``free_over``. Every charge comes with a sentence saying why, so the
shopper, the seller and support read the same explanation.

Amounts are in the store's price basis: with tax-inclusive prices, rule prices and
thresholds include tax too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bazaar.checkout.addresses import COUNTRY_CODES
from bazaar.kernel.errors import CurrencyMismatch, FieldError, ValidationFailed
from bazaar.kernel.money import Money

DESTINATION_FIELD = "shipping_address.country"


@dataclass(frozen=True)
class WeightBand:
    """Parcels up to and including ``up_to_g`` grams cost ``price``."""

    up_to_g: int
    price: Money


@dataclass(frozen=True)
class ShippingRule:
    """How one fulfiller prices a parcel: exactly one of ``flat_rate`` or ``weight_bands``.

    ``countries`` limits the rule to those destinations (``None``: everywhere);
    ``excluded_countries`` removes destinations. Construction raises ``ValidationFailed``
    naming the field: prices and thresholds must be non-negative and in one currency, bands
    strictly increasing in weight, countries assigned ISO 3166-1 alpha-2 codes.
    """

    id: str
    label: str
    flat_rate: Money | None = None
    weight_bands: tuple[WeightBand, ...] = ()
    free_over: Money | None = None
    countries: frozenset[str] | None = None
    excluded_countries: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if (self.flat_rate is None) == (not self.weight_bands):
            errors.append(
                FieldError("flat_rate", "Give either a flat rate or weight bands", "exclusive")
            )
        prices: list[tuple[str, Money]] = [
            (f"weight_bands[{i}].price", band.price) for i, band in enumerate(self.weight_bands)
        ]
        if self.flat_rate is not None:
            prices.append(("flat_rate", self.flat_rate))
        if self.free_over is not None:
            prices.append(("free_over", self.free_over))
        currency = prices[0][1].currency if prices else None
        for name, price in prices:
            if price.is_negative():
                errors.append(FieldError(f"{name}.amount", "Must not be negative", "negative"))
            if price.currency != currency:
                errors.append(
                    FieldError(f"{name}.currency", "One currency per rule", "currency_mismatch")
                )
        previous = 0
        for i, band in enumerate(self.weight_bands):
            if band.up_to_g <= previous:
                errors.append(
                    FieldError(
                        f"weight_bands[{i}].up_to_g",
                        "Bands are positive and strictly increasing",
                        "out_of_order",
                    )
                )
            previous = max(previous, band.up_to_g)
        for name, codes in (
            ("countries", self.countries or frozenset()),
            ("excluded_countries", self.excluded_countries),
        ):
            unknown = sorted(c for c in codes if c not in COUNTRY_CODES)
            if unknown:
                errors.append(FieldError(name, f"Unknown countries: {', '.join(unknown)}"))
        if errors:
            raise ValidationFailed(f"Shipping rule {self.id!r} is not valid", errors=errors)

    def ships_to(self, country: str) -> bool:
        """True when the rule covers ``country``."""
        if country in self.excluded_countries:
            return False
        return self.countries is None or country in self.countries

    def band_for(self, weight_g: int) -> WeightBand | None:
        """The lightest band that carries ``weight_g``; None when it is too heavy (or the
        rule is a flat rate)."""
        return next((b for b in self.weight_bands if weight_g <= b.up_to_g), None)


@dataclass(frozen=True)
class Parcel:
    """What one fulfiller ships for one order: its lines' subtotal after discounts, and
    their total weight."""

    fulfiller_id: str
    subtotal: Money
    weight_g: int


@dataclass(frozen=True)
class ShippingCost:
    """The charge for one fulfiller's parcel, the rule that set it and why."""

    fulfiller_id: str
    rule_id: str
    amount: Money
    explanation: str


def _price(rule: ShippingRule, parcel: Parcel) -> tuple[Money, str] | None:
    if rule.flat_rate is not None:
        base, reason = rule.flat_rate, f"{rule.label}: flat rate {rule.flat_rate}"
    else:
        band = rule.band_for(parcel.weight_g)
        if band is None:
            return None
        base = band.price
        reason = f"{rule.label}: {parcel.weight_g} g, band up to {band.up_to_g} g, {band.price}"
    for money in (base, rule.free_over):
        if money is not None and money.currency != parcel.subtotal.currency:
            message = f"Shipping rule {rule.id!r} is priced in {money.currency}"
            raise CurrencyMismatch(
                message, errors=[FieldError("currency", message, CurrencyMismatch.code)]
            )
    if rule.free_over is not None and parcel.subtotal >= rule.free_over:
        return (
            Money.zero(base.currency),
            f"{rule.label}: free, subtotal {parcel.subtotal} is at least {rule.free_over}",
        )
    return base, reason


def shipping_cost(parcel: Parcel, country: str, rules: Sequence[ShippingRule]) -> ShippingCost:
    """Price ``parcel`` for delivery to ``country`` with the first rule that can carry it.

    Raises ``ValidationFailed`` on ``shipping_address.country`` (code ``not_shippable``)
    when no rule ships there or every rule that does is outgrown by the weight, and
    ``CurrencyMismatch`` when the matching rule is priced in another currency.
    """
    if parcel.weight_g < 0:
        raise ValueError(f"Parcel weight must not be negative, got {parcel.weight_g}")
    too_heavy = False
    for rule in rules:
        if not rule.ships_to(country):
            continue
        priced = _price(rule, parcel)
        if priced is None:
            too_heavy = True
            continue
        amount, explanation = priced
        return ShippingCost(parcel.fulfiller_id, rule.id, amount, explanation)
    reason = "is too heavy to ship" if too_heavy else "cannot be shipped"
    message = f"The parcel from {parcel.fulfiller_id} {reason} to {country}"
    raise ValidationFailed(
        message, errors=[FieldError(DESTINATION_FIELD, message, "not_shippable")]
    )


def shipping_costs(
    parcels: Sequence[Parcel], country: str, rules: Mapping[str, Sequence[ShippingRule]]
) -> list[ShippingCost]:
    """Price every parcel (see :func:`shipping_cost`), in the order given.

    A fulfiller without rules ships nowhere. Every unshippable parcel is reported, each as
    its own error on ``shipping_address.country``, in one ``ValidationFailed``.
    """
    costs: list[ShippingCost] = []
    errors: list[FieldError] = []
    for parcel in parcels:
        try:
            costs.append(shipping_cost(parcel, country, rules.get(parcel.fulfiller_id, ())))
        except CurrencyMismatch:
            raise
        except ValidationFailed as failure:
            errors += failure.errors
    if errors:
        raise ValidationFailed("Some items cannot be shipped to this address", errors=errors)
    return costs
