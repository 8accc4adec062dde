"""The cart quote: a cart and its offers as checkout lines, priced by ``checkout.model.quote``.

Pure Python. The service loads, in a fixed number of queries, everything a quote needs (the
cart, its offers from the catalog, the fulfillers' shipping rules, the categories' VAT rate
classes); :func:`price_cart` then computes without touching the database. What the shopper
pays per unit, the discounts and free shipping come from a :class:`CartPricer` (the pricing
engine, ``bazaar.pricing.cart_pricing``); :class:`BasePrices` is the offers' own prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bazaar.carts.model import Cart, availability_errors
from bazaar.catalog.model import CheckoutOffer
from bazaar.checkout.model import quote
from bazaar.checkout.quote_parts import CheckoutLine, Discount, Quote
from bazaar.checkout.shipping import ShippingRule
from bazaar.checkout.tax import RateClass, TaxTable, category_rate_classes
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money


@dataclass(frozen=True)
class FreeShipping:
    """A fulfiller's shipping waived by a rule (a promotion), named in the quote.

    ``budget``: the most the rule's waivers may take off shipping together in this cart
    (what is left of the promotion's budget); None when unlimited. A charge beyond it is
    waived in part, and the quote records what each waiver took (``ShippingCharge.waived``).
    """

    rule_id: str
    label: str
    budget: Money | None = None


@dataclass(frozen=True)
class PricedLines:
    """What the pricing engine decided for a cart, for the quote to apply and explain.

    ``lines`` carry the unit prices the shopper pays before discounts (price lists, tiers,
    sales, experiments); ``discounts`` are line discounts (``offer_id`` set) and order
    discounts in the store's price basis; ``free_shipping`` is by fulfiller id. ``outcome``
    is the engine's own record of the decision, which order placement commits (coupon uses,
    budgets, experiment exposures); the quote does not read it.
    """

    lines: Sequence[CheckoutLine]
    discounts: Sequence[Discount] = ()
    free_shipping: Mapping[str, FreeShipping] = field(default_factory=dict)
    outcome: object | None = None
    # each entered coupon code: "applied", or why not ("expired", "used_up", "unknown"...)
    coupons: Mapping[str, str] = field(default_factory=dict)


class CartPricer(Protocol):
    """Decides the prices and discounts of a cart; the quote applies and explains them."""

    def price(
        self, cart: Cart, lines: Sequence[CheckoutLine], offers: Mapping[str, CheckoutOffer]
    ) -> PricedLines: ...


class BasePrices:
    """The offers' own prices, nothing discounted: a store without pricing rules."""

    def price(
        self, cart: Cart, lines: Sequence[CheckoutLine], offers: Mapping[str, CheckoutOffer]
    ) -> PricedLines:
        return PricedLines(lines)


@dataclass(frozen=True)
class QuoteSettings:
    """The store-wide inputs of every quote."""

    tax_table: TaxTable
    prices_include_tax: bool
    default_shipping: tuple[ShippingRule, ...]


def checkout_lines(cart: Cart, offers: Mapping[str, CheckoutOffer]) -> list[CheckoutLine]:
    """The cart's items as checkout lines, at the offers' current prices.

    Raises ``ValidationFailed`` on ``items`` for an empty cart, and on ``items[i].offer_id``
    or ``items[i].quantity`` for every line that cannot be bought as it stands.
    """
    if not cart.items:
        raise ValidationFailed.on("items", "The cart is empty", "empty")
    errors: list[FieldError] = []
    for n, item in enumerate(cart.items):
        errors += availability_errors(
            offers.get(item.offer_id), item.quantity, cart.currency, at=f"items[{n}]."
        )
    if errors:
        raise ValidationFailed("Some items cannot be bought as they are", errors=errors)
    return [
        CheckoutLine(
            offer_id=item.offer_id,
            sku=offers[item.offer_id].sku,
            fulfiller_id=offers[item.offer_id].fulfiller_id,
            category_id=offers[item.offer_id].category_id,
            quantity=item.quantity,
            unit_price=offers[item.offer_id].price,
            weight_g=offers[item.offer_id].weight_g or 0,
        )
        for item in cart.items
    ]


def _cart_field(error: FieldError) -> FieldError:
    """Name checkout's fields as the cart API does: ``lines[i]`` are ``items[i]`` (same order)
    and the destination is the ``country`` parameter."""
    field = error.field
    if field.startswith("lines["):
        field = "items[" + field.removeprefix("lines[")
    elif field.startswith("shipping_address.country"):
        field = "country"
    return replace(error, field=field)


def price_cart(
    lines: Sequence[CheckoutLine],
    offers: Mapping[str, CheckoutOffer],
    country: str,
    *,
    settings: QuoteSettings,
    shipping_rules: Mapping[str, Sequence[ShippingRule]],
    rate_classes: Mapping[str, RateClass],
    discounts: Sequence[Discount] = (),
    free_shipping: Mapping[str, FreeShipping] | None = None,
) -> Quote:
    """Quote ``lines`` (from :func:`checkout_lines`) for delivery to ``country``.

    ``shipping_rules`` are the fulfillers' own rules (a fulfiller without any ships with the
    default rule); ``rate_classes`` are the categories' own VAT classes, inherited by
    subcategories from their nearest ancestor (``offers`` tell each category's ancestors).
    Raises ``ValidationFailed`` naming ``country`` (not shippable, no tax rates) or
    ``items[i].…``; see :func:`bazaar.checkout.model.quote` for the guarantees. A fulfiller
    in ``free_shipping`` ships free, the waiving rule named in the quote.
    """
    if any(w.budget is not None for w in (free_shipping or {}).values()):
        return _waived_within_budgets(
            lines,
            offers,
            country,
            settings=settings,
            shipping_rules=shipping_rules,
            rate_classes=rate_classes,
            discounts=discounts,
            free_shipping=free_shipping or {},
        )
    fulfillers = {line.fulfiller_id for line in lines}
    rules = {f: tuple(shipping_rules.get(f) or settings.default_shipping) for f in fulfillers}
    for fulfiller, waived in (free_shipping or {}).items():
        if fulfiller in rules:
            rules[fulfiller] = (
                ShippingRule(
                    waived.rule_id, waived.label, flat_rate=Money.zero(lines[0].unit_price.currency)
                ),
            )
    ancestors = {o.category_id: o.category_ancestor_ids for o in offers.values()}
    try:
        return quote(
            lines,
            destination=country,
            tax_table=settings.tax_table,
            shipping_rules=rules,
            discounts=discounts,
            prices_include_tax=settings.prices_include_tax,
            rate_classes=category_rate_classes(rate_classes, ancestors=ancestors),
        )
    except ValidationFailed as exc:
        raise type(exc)(exc.detail, errors=[_cart_field(e) for e in exc.errors]) from exc


def _waived_within_budgets(
    lines: Sequence[CheckoutLine],
    offers: Mapping[str, CheckoutOffer],
    country: str,
    *,
    settings: QuoteSettings,
    shipping_rules: Mapping[str, Sequence[ShippingRule]],
    rate_classes: Mapping[str, RateClass],
    discounts: Sequence[Discount],
    free_shipping: Mapping[str, FreeShipping],
) -> Quote:
    """:func:`price_cart` when a waiver has a budget: what each waived fulfiller would pay
    is priced first, then waived up to the rule's budget (fulfillers in id order), each
    charge recording what it had waived so order placement draws exactly that."""
    unwaived = price_cart(
        lines,
        offers,
        country,
        settings=settings,
        shipping_rules=shipping_rules,
        rate_classes=rate_classes,
        discounts=discounts,
    )
    charged = {c.fulfiller_id: c.amount for c in unwaived.shipping}
    left = {w.rule_id: w.budget for w in free_shipping.values()}
    waived: dict[str, Money] = {}
    rules = dict(shipping_rules)
    for fulfiller in sorted(f for f in free_shipping if f in charged):
        waiver, charge = free_shipping[fulfiller], charged[fulfiller]
        room = left[waiver.rule_id]
        take = charge if room is None else min(charge, room)
        label = waiver.label
        if room is not None:
            left[waiver.rule_id] = room - take
            waived[fulfiller] = take
            label += (
                f" ({take} from the promotion's budget)"
                if take == charge
                else f" ({take} of {charge} waived: what is left of the promotion's budget)"
            )
        rules[fulfiller] = (ShippingRule(waiver.rule_id, label, flat_rate=charge - take),)
    quoted = price_cart(
        lines,
        offers,
        country,
        settings=settings,
        shipping_rules=rules,
        rate_classes=rate_classes,
        discounts=discounts,
    )
    shipping = tuple(
        replace(c, waived=waived[c.fulfiller_id]) if c.fulfiller_id in waived else c
        for c in quoted.shipping
    )
    return replace(quoted, shipping=shipping)
