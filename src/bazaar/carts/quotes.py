"""What a cart costs delivered to a country: the quote a shopper asks for and checkout prices.

Split from the cart use cases because it is a read with its own collaborators (the offers,
the shipping and VAT tables, the pricing engine) and no write: a quote never changes the
cart. :class:`CartQuotes` reads what it needs in a fixed number of queries whatever the
cart's size, then computes the quote with the pure ``quoting.price_cart``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bazaar.carts import rules_store
from bazaar.carts.model import Cart
from bazaar.carts.quoting import (
    BasePrices,
    CartPricer,
    PricedLines,
    QuoteSettings,
    checkout_lines,
    price_cart,
)
from bazaar.catalog.model import CheckoutOffer
from bazaar.checkout.addresses import clean_country
from bazaar.checkout.quote_parts import Quote
from bazaar.infra.db import Database
from bazaar.kernel.errors import ValidationFailed

# offer ids -> what checkout needs of them (CatalogService.checkout_offers): one query
OfferSource = Callable[[Sequence[str]], Mapping[str, CheckoutOffer]]


@dataclass(frozen=True)
class CartQuote:
    """A quote with the offers it priced and the pricing engine's decision behind it."""

    quote: Quote
    offers: Mapping[str, CheckoutOffer]
    priced: PricedLines


class CouponDirectory(Protocol):
    def require_known(self, code: str) -> str:
        """The normalised code; ``ValidationFailed`` on ``code`` when malformed or unknown."""
        ...


class AnyCoupon:
    """Until pricing is plugged in: codes are only normalised."""

    def require_known(self, code: str) -> str:
        normalised = code.strip().upper()
        if not normalised:
            raise ValidationFailed.on("code", "A code is required", "required")
        return normalised


class CartQuotes:
    """Prices carts: base prices until the pricing engine is plugged in (``use_pricer``)."""

    def __init__(
        self,
        db: Database,
        offers: OfferSource,
        settings: QuoteSettings,
        pricer: CartPricer | None = None,
    ) -> None:
        self._db = db
        self._offers = offers
        self._settings = settings
        self._pricer: CartPricer = pricer or BasePrices()

    def use_pricer(self, pricer: CartPricer) -> None:
        self._pricer = pricer

    def price(self, cart: Cart, country: str | None = None) -> CartQuote:
        """Price ``cart`` for delivery to ``country`` (default: the cart's country).

        Three queries whatever the cart's size (offers, shipping rules, VAT classes), what
        the pricer reads (coupon uses and budgets only when the cart has codes or budgeted
        promotions apply), then a pure computation (``quoting.price_cart``). 422 naming
        ``country`` (missing, unknown, not shippable, not taxable) or ``items[i].offer_id`` /
        ``items[i].quantity`` (a line that cannot be bought as it stands), ``items`` for an
        empty cart.
        """
        destination = country if country is not None else cart.country
        if destination is None:
            raise ValidationFailed.on(
                "country", "Give a destination country, or set one on the cart", "required"
            )
        destination = clean_country(destination)
        offers = self._offers(cart.offer_ids)
        lines = checkout_lines(cart, offers)
        categories = {c for o in offers.values() for c in (*o.category_ancestor_ids, o.category_id)}
        with self._db.read() as conn:
            rules = rules_store.shipping_rules_for(conn, {line.fulfiller_id for line in lines})
            classes = rules_store.tax_classes_for(conn, categories)
        priced = self._pricer.price(cart, lines, offers)
        quote = price_cart(
            priced.lines,
            offers,
            destination,
            settings=self._settings,
            shipping_rules=rules,
            rate_classes=classes,
            discounts=priced.discounts,
            free_shipping=priced.free_shipping,
        )
        return CartQuote(quote, offers, priced)
