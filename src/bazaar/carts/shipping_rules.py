"""Fulfillers' shipping rules as operators write them: flat, free over a threshold, by weight.

Pure Python. An operator sets a fulfiller's ordered list of rules; each becomes a
:class:`~bazaar.checkout.shipping.ShippingRule` (the checkout rule the quote applies: the
first rule that ships to the destination and carries the weight prices the parcel). A
fulfiller without rules ships with the store's default rule (settings).

* ``flat``: ``amount`` per parcel.
* ``free_over``: ``amount`` per parcel, nothing once the fulfiller's subtotal reaches
  ``free_over``.
* ``by_weight``: the price of the lightest band that carries the parcel (``bands``, each
  ``up_to_g`` grams inclusive), optionally free over ``free_over``.

Errors name the request's fields (``rules[0].amount``), so they are checked here before the
checkout rule (which names its own fields) is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bazaar.checkout.addresses import check_country, normalize_country
from bazaar.checkout.shipping import ShippingRule, WeightBand
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money

MAX_RULES = 20
MAX_BANDS = 20
MAX_LABEL = 80
MAX_WEIGHT_G = 10**7
MAX_AMOUNT = 10**9  # ten million in a two-decimal currency: beyond that it is a typo
DEFAULT_RULE_ID = "default"


class RuleKind(StrEnum):
    FLAT = "flat"
    FREE_OVER = "free_over"
    BY_WEIGHT = "by_weight"


_DEFAULT_LABELS = {
    RuleKind.FLAT: "Shipping",
    RuleKind.FREE_OVER: "Shipping",
    RuleKind.BY_WEIGHT: "Shipping by weight",
}


@dataclass(frozen=True)
class RuleInput:
    """One rule as an operator sends it; ``countries`` None ships everywhere."""

    kind: RuleKind
    label: str = ""
    amount: Money | None = None
    free_over: Money | None = None
    bands: tuple[WeightBand, ...] = ()
    countries: tuple[str, ...] | None = None
    excluded_countries: tuple[str, ...] = ()


def rule_kind(rule: ShippingRule) -> RuleKind:
    if rule.weight_bands:
        return RuleKind.BY_WEIGHT
    return RuleKind.FREE_OVER if rule.free_over is not None else RuleKind.FLAT


def _check_money(money: Money, field: str, currency: str) -> list[FieldError]:
    if money.currency != currency:
        return [FieldError(f"{field}.currency", f"Prices are in {currency}", "currency_mismatch")]
    if money.is_negative():
        return [FieldError(f"{field}.amount", "Must not be negative", "negative")]
    if money.amount > MAX_AMOUNT:
        return [FieldError(f"{field}.amount", "Unrealistically large", "too_large")]
    return []


def _shape_errors(rule: RuleInput, at: str) -> list[FieldError]:
    """Which fields a kind requires and which it refuses."""
    errors: list[FieldError] = []
    wants_amount = rule.kind is not RuleKind.BY_WEIGHT
    if wants_amount and rule.amount is None:
        errors.append(FieldError(f"{at}amount", f"Required for kind {rule.kind}", "required"))
    if not wants_amount and rule.amount is not None:
        errors.append(FieldError(f"{at}amount", "By-weight rules price by bands", "not_allowed"))
    if rule.kind is RuleKind.FREE_OVER and rule.free_over is None:
        errors.append(FieldError(f"{at}free_over", "Required for kind free_over", "required"))
    if rule.kind is RuleKind.FLAT and rule.free_over is not None:
        errors.append(FieldError(f"{at}free_over", "Use kind free_over", "not_allowed"))
    if rule.kind is RuleKind.BY_WEIGHT and not rule.bands:
        errors.append(FieldError(f"{at}bands", "At least one band", "required"))
    if rule.kind is not RuleKind.BY_WEIGHT and rule.bands:
        errors.append(FieldError(f"{at}bands", "Only by_weight rules have bands", "not_allowed"))
    if len(rule.bands) > MAX_BANDS:
        errors.append(FieldError(f"{at}bands", f"At most {MAX_BANDS} bands", "too_many"))
    return errors


def _country_errors(codes: Sequence[str], field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for n, code in enumerate(codes):
        errors += check_country(code, f"{field}[{n}]")
    return errors


def check_rule(rule: RuleInput, at: str, currency: str) -> list[FieldError]:
    """Every problem with one rule, each named ``<at><field>``."""
    errors = _shape_errors(rule, at)
    if len(rule.label) > MAX_LABEL:
        errors.append(FieldError(f"{at}label", f"At most {MAX_LABEL} characters", "too_long"))
    for name, money in (("amount", rule.amount), ("free_over", rule.free_over)):
        if money is not None:
            errors += _check_money(money, f"{at}{name}", currency)
    previous = 0
    for n, band in enumerate(rule.bands):
        errors += _check_money(band.price, f"{at}bands[{n}].price", currency)
        if not previous < band.up_to_g <= MAX_WEIGHT_G:
            errors.append(
                FieldError(
                    f"{at}bands[{n}].up_to_g",
                    f"Grams, increasing from band to band, at most {MAX_WEIGHT_G}",
                    "out_of_order",
                )
            )
        previous = max(previous, band.up_to_g)
    if rule.countries is not None and not rule.countries:
        errors.append(FieldError(f"{at}countries", "Leave out to ship everywhere", "required"))
    errors += _country_errors(rule.countries or (), f"{at}countries")
    errors += _country_errors(rule.excluded_countries, f"{at}excluded_countries")
    return errors


def build_rules(
    rules: Sequence[RuleInput], rule_ids: Sequence[str], currency: str
) -> list[ShippingRule]:
    """The checkout rules for ``rules`` in order, or ``ValidationFailed`` naming every
    bad field as ``rules[i].<field>``."""
    if len(rules) > MAX_RULES:
        raise ValidationFailed.on("rules", f"At most {MAX_RULES} rules", "too_many")
    errors: list[FieldError] = []
    for n, rule in enumerate(rules):
        errors += check_rule(rule, f"rules[{n}].", currency)
    if errors:
        raise ValidationFailed("Some shipping rules are not valid", errors=errors)
    return [
        ShippingRule(
            id=rule_id,
            label=" ".join(rule.label.split()) or _DEFAULT_LABELS[rule.kind],
            flat_rate=rule.amount,
            weight_bands=rule.bands,
            free_over=rule.free_over,
            countries=(
                frozenset(normalize_country(c) for c in rule.countries)
                if rule.countries is not None
                else None
            ),
            excluded_countries=frozenset(normalize_country(c) for c in rule.excluded_countries),
        )
        for rule, rule_id in zip(rules, rule_ids, strict=True)
    ]


def default_rule(currency: str, amount: int, free_over: int) -> ShippingRule:
    """The store's rule for fulfillers without their own: ``amount`` per parcel, free from
    ``free_over`` (minor units; 0 means never free)."""
    return ShippingRule(
        id=DEFAULT_RULE_ID,
        label="Standard shipping",
        flat_rate=Money(amount, currency),
        free_over=Money(free_over, currency) if free_over > 0 else None,
    )
